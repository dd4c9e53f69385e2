import { describe, expect, it } from 'vitest';
import type { Beacon } from '../model/beacon.ts';
import { loadProto } from '../model/proto-files.ts';
import type { Resource } from '../model/span.ts';
import { decodeBeaconProto } from '../receive/beacon/decode-beacon-proto.ts';
import { validateBeacon } from '../receive/beacon/validate-beacon.ts';
import { adjustedCount, otValue, parseThresholdHex } from '../sample/probability.ts';
import { BEACON_SCOPE, beaconToSpans } from './beacon-to-spans.ts';
import { edgeResources } from './edge-resource.ts';

const resource = { attributes: [], droppedAttributesCount: 0, schemaUrl: '', key: '' };
const beacon: Beacon = {
  v: 1,
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  ts: 1764070000123,
  worker: { id: '1', version: '1' },
  spans: [
    {
      id: '00f067aa0ba902b7',
      parent: 'b7ad6b7169203331',
      parentRemote: true,
      name: 'edge',
      start: 0,
      dur: 1,
    },
    { id: '1a2b3c4d5e6f7081', parent: '00f067aa0ba902b7', name: 'child', start: 0.5, dur: 0.25 },
  ],
};

/** A one-span binary beacon with these fields of the beacon's and of its span's, decoded. */
function binary(fields: Record<string, unknown>, spanFields: Record<string, unknown>): Beacon {
  const Message = loadProto('beacon.proto').lookupType('edgerelay.beacon.v1.Beacon');
  const body = Message.encode(
    Message.fromObject({
      v: 1,
      traceId: Buffer.from(beacon.traceId, 'hex'),
      ts: beacon.ts,
      worker: beacon.worker,
      spans: [{ id: Buffer.from('00f067aa0ba902b7', 'hex'), name: 'edge', dur: 1, ...spanFields }],
      ...fields,
    }),
  ).finish();
  return decodeBeaconProto(Buffer.from(body)) as Beacon;
}

describe('beaconToSpans', () => {
  it('marks a span whose parent came from the caller as having a remote parent (OTLP flags bits 8–9)', () => {
    const [edge, child] = beaconToSpans(beacon, resource);
    expect(edge?.span.flags).toBe(0x301);
    expect(child?.span.flags).toBe(1);
    expect(edge?.scope).toBe(BEACON_SCOPE);
  });

  it('reads parent_remote from the binary beacon', () => {
    expect(binary({}, { parentRemote: true }).spans[0]?.parentRemote).toBe(true);
  });
});

describe('the edge sampling threshold (th)', () => {
  const withTh = (th: string | undefined, traceState?: string): Beacon => ({ ...beacon, th, traceState });
  const traceStates = (b: Beacon) => [...new Set(beaconToSpans(b, resource).map((r) => r.span.traceState))];

  it('goes onto every span as ot=th, in front of the other members', () => {
    expect(traceStates(withTh('e666666666666', 'congo=t61rcWkgMzE'))).toEqual([
      'ot=th:e666666666666,congo=t61rcWkgMzE',
    ]);
    expect(traceStates(withTh('e666666666666'))).toEqual(['ot=th:e666666666666']);
  });

  it('replaces an earlier th, keeping the other ot fields', () => {
    expect(traceStates(withTh('8', 'congo=1,ot=th:c;rv:0123456789abcd'))).toEqual([
      'ot=th:8;rv:0123456789abcd,congo=1',
    ]);
  });

  it('at 0 (traced for certain) changes nothing but an earlier th', () => {
    expect(traceStates(withTh('0000000000000', 'congo=1'))).toEqual(['congo=1']);
    expect(traceStates(withTh('0', 'ot=th:c'))).toEqual(['ot=th:0']);
    expect(traceStates(withTh(undefined, 'ot=th:c'))).toEqual(['ot=th:c']);
  });

  it('lets a later stage re-weight by 1 / p', () => {
    const [record] = beaconToSpans(withTh('e666666666666'), resource);
    const count = adjustedCount(parseThresholdHex(otValue(record?.span.traceState ?? '', 'th')) ?? 0n);
    expect(count).toBeCloseTo(10, 9);
  });

  it('is refused unless 1 to 14 lowercase hex digits', () => {
    expect(validateBeacon(withTh('e666666666666'))).toBeUndefined();
    for (const th of ['', 'E6', '0123456789abcde', 'th:8'])
      expect(validateBeacon(withTh(th))?.message).toMatch(/^th: /);
  });
});

describe('attributes the client dropped (droppedAttrs)', () => {
  it('become the span’s OTLP dropped_attributes_count', () => {
    const [edge, child] = beaconToSpans(
      { ...beacon, spans: [{ ...beacon.spans[0], droppedAttrs: 3 } as never, beacon.spans[1] as never] },
      resource,
    );
    expect(edge?.span.droppedAttributesCount).toBe(3);
    expect(child?.span.droppedAttributesCount).toBe(0);
  });

  it('must be a count', () => {
    expect(
      validateBeacon({ ...beacon, spans: [{ ...beacon.spans[0], droppedAttrs: -1 } as never] })?.message,
    ).toMatch(/^spans\[0\]\.droppedAttrs: /);
  });
});

describe('the binary beacon', () => {
  it('carries th and dropped_attrs', () => {
    const decoded = binary({ th: 'e666666666666' }, { droppedAttrs: 2 });
    expect(decoded.th).toBe('e666666666666');
    expect(decoded.spans[0]?.droppedAttrs).toBe(2);
    expect(validateBeacon(decoded)).toBeUndefined();
  });

  it('without them decodes to neither', () => {
    const decoded = binary({}, {});
    expect(decoded.th).toBeUndefined();
    expect(decoded.spans[0]?.droppedAttrs).toBeUndefined();
  });
});

describe('the identity attribute of a beacon resource', () => {
  const config = { pops: [], default_service_name: 'edgeworker', pop_cache_size: 10 };
  const attributes = (resource: Resource) =>
    Object.fromEntries(resource.attributes.map((a) => [a.key, (a.value as { value: unknown }).value]));
  const spoofing = { ...beacon, resource: { 'edge_relay.client.identity': 'token:admin' } };

  it('names the beacon key, and is not the beacon’s to set', () => {
    const resourceOf = edgeResources(config, 'edge_relay.client.identity');
    const signed = resourceOf(spoofing, '203.0.113.7', 'beacon:edge-k1');
    expect(attributes(signed)['edge_relay.client.identity']).toBe('beacon:edge-k1');
    expect(attributes(resourceOf(spoofing, '203.0.113.7'))).not.toHaveProperty('edge_relay.client.identity');
    expect(resourceOf(beacon, '203.0.113.7', 'beacon:edge-k2').key).not.toBe(signed.key);
  });

  it('is absent, and the beacon’s attribute kept, without identity_attribute', () => {
    const resource = edgeResources(config)(spoofing, '203.0.113.7', 'beacon:edge-k1');
    expect(attributes(resource)['edge_relay.client.identity']).toBe('token:admin');
  });
});
