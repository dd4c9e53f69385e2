import { describe, expect, it } from 'vitest';
import type { Resource, SpanRecord } from '../model/span.ts';
import { BEACON_SCOPE } from './beacon-to-spans.ts';
import { otlpEnrichment } from './otlp-resource.ts';

const enrich = otlpEnrichment({
  pops: [{ cidr: '203.0.113.0/24', pop: 'FRA' }],
  default_service_name: 'edgeworker',
  pop_cache_size: 10,
});

const resourceWith = (attributes: Record<string, string>): Resource => ({
  attributes: Object.entries(attributes).map(([key, value]) => ({ key, value: { type: 'string', value } })),
  droppedAttributesCount: 0,
  schemaUrl: '',
  key: JSON.stringify(attributes),
});

const attributesAfter = (resource: Resource, peer: string): Record<string, unknown> => {
  const records = [{ resource, scope: BEACON_SCOPE, size: 1 } as unknown as SpanRecord];
  enrich(records, peer);
  return Object.fromEntries(
    records[0]?.resource.attributes.map((a) => [a.key, (a.value as { value: unknown }).value]) ?? [],
  );
};

describe('otlpEnrichment', () => {
  it('leaves a resource from an origin service alone', () => {
    expect(attributesAfter(resourceWith({ 'service.name': 'api' }), '10.0.0.1')).toEqual({
      'service.name': 'api',
    });
  });

  it('looks up the PoP of a resource that names its edge ip', () => {
    expect(attributesAfter(resourceWith({ 'akamai.edge.ip': '203.0.113.9' }), '10.0.0.1')).toEqual({
      'akamai.edge.ip': '203.0.113.9',
      'akamai.edge.pop': 'FRA',
    });
  });

  it('stamps the peer as the edge when the peer is inside a PoP range', () => {
    expect(attributesAfter(resourceWith({ 'service.name': 'w' }), '203.0.113.5')).toEqual({
      'service.name': 'w',
      'akamai.edge.ip': '203.0.113.5',
      'akamai.edge.pop': 'FRA',
    });
  });

  it('never overrides a PoP the resource already names', () => {
    const resource = resourceWith({ 'akamai.edge.ip': '203.0.113.9', 'akamai.edge.pop': 'AMS' });
    expect(attributesAfter(resource, '203.0.113.5')).toEqual({
      'akamai.edge.ip': '203.0.113.9',
      'akamai.edge.pop': 'AMS',
    });
  });

  it('enriches each resource once and gives the enriched one its own key', () => {
    const resource = resourceWith({ 'service.name': 'w' });
    const records = [0, 1].map(() => ({ resource, scope: BEACON_SCOPE, size: 1 }) as unknown as SpanRecord);
    enrich(records, '203.0.113.5');
    expect(records[0]?.resource).toBe(records[1]?.resource);
    expect(records[0]?.resource.key).not.toBe(resource.key);
  });
});
