import { describe, expect, it } from 'vitest';
import type { Beacon } from '../model/beacon.ts';
import { loadProto } from '../model/proto-files.ts';
import { decodeBeaconProto } from '../receive/beacon/decode-beacon-proto.ts';
import { BEACON_SCOPE, beaconToSpans } from './beacon-to-spans.ts';

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

describe('beaconToSpans', () => {
  it('marks a span whose parent came from the caller as having a remote parent (OTLP flags bits 8–9)', () => {
    const [edge, child] = beaconToSpans(beacon, resource);
    expect(edge?.span.flags).toBe(0x301);
    expect(child?.span.flags).toBe(1);
    expect(edge?.scope).toBe(BEACON_SCOPE);
  });

  it('reads parent_remote from the binary beacon', () => {
    const Message = loadProto('beacon.proto').lookupType('edgerelay.beacon.v1.Beacon');
    const body = Message.encode(
      Message.fromObject({
        v: 1,
        traceId: Buffer.from(beacon.traceId, 'hex'),
        ts: beacon.ts,
        worker: beacon.worker,
        spans: [{ id: Buffer.from('00f067aa0ba902b7', 'hex'), parentRemote: true, name: 'edge', dur: 1 }],
      }),
    ).finish();
    expect((decodeBeaconProto(Buffer.from(body)) as Beacon).spans[0]?.parentRemote).toBe(true);
  });
});
