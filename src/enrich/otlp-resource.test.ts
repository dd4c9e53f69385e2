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

const attributesAfter = (
  resource: Resource,
  peer: string,
  enrichment: typeof enrich = enrich,
  identity?: string,
): Record<string, unknown> => {
  const records = [{ resource, scope: BEACON_SCOPE, size: 1 } as unknown as SpanRecord];
  enrichment(records, peer, identity);
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

  describe('with identity_attribute', () => {
    const withIdentity = otlpEnrichment(
      { pops: [], default_service_name: 'edgeworker', pop_cache_size: 10 },
      'edge_relay.client.identity',
    );

    it('names the credential the request came with', () => {
      const resource = resourceWith({ 'service.name': 'api' });
      expect(attributesAfter(resource, '10.0.0.1', withIdentity, 'oidc:collector-1')).toEqual({
        'service.name': 'api',
        'edge_relay.client.identity': 'oidc:collector-1',
      });
    });

    it('never keeps one the sender wrote itself, with or without an identity of its own', () => {
      const resource = resourceWith({ 'service.name': 'api', 'edge_relay.client.identity': 'token:admin' });
      expect(attributesAfter(resource, '10.0.0.1', withIdentity, 'token:edge')).toEqual({
        'service.name': 'api',
        'edge_relay.client.identity': 'token:edge',
      });
      expect(attributesAfter(resource, '10.0.0.1', withIdentity)).toEqual({ 'service.name': 'api' });
    });
  });
});
