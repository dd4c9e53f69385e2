import { describe, expect, it } from 'vitest';
import { fakeReceiver } from '../../../test/support/fake-receiver.ts';
import { shardOf } from '../../handoff/shard-of.ts';
import { loadProto } from '../../model/proto-files.ts';
import { decodeOtlpProto } from './decode-otlp-proto.ts';

const Status = loadProto('google/rpc/status.proto').lookupType('google.rpc.Status');
const SHARDS = 4;

const receiver = (room?: (shard: number) => boolean) => fakeReceiver(SHARDS, room);

// Eight traces whose last digit picks shards 0..3 twice over, one span each.
const traceIds = Array.from({ length: 8 }, (_, i) => `${'ab'.repeat(15)}0${i}`);
const body = JSON.stringify({
  resourceSpans: [
    {
      scopeSpans: [
        {
          spans: traceIds.map((traceId, i) => ({
            traceId,
            spanId: `00000000000000${i + 10}`,
            name: `s${i}`,
          })),
        },
      ],
    },
  ],
});
const post = (app: ReturnType<typeof receiver>['app']) =>
  app.inject({
    method: 'POST',
    url: '/v1/traces',
    headers: { 'content-type': 'application/json' },
    payload: body,
  });

describe('POST /v1/traces', () => {
  it('hands each shard exactly the spans of its traces', async () => {
    const { app, offered } = receiver();
    expect((await post(app)).statusCode).toBe(200);
    expect(offered.map((o) => o.shard).sort()).toEqual([0, 1, 2, 3]);
    for (const { shard, item } of offered) {
      const ids = decodeOtlpProto(item.body).records.map((r) => r.span.traceId);
      expect(ids).toHaveLength(2);
      for (const id of ids) expect(shardOf(id, SHARDS)).toBe(shard);
      // The body owns its memory, so it can be transferred to the worker.
      expect(item.body.byteOffset).toBe(0);
      expect(item.body.byteLength).toBe(item.body.buffer.byteLength);
    }
  });

  it('refuses the whole request with 429 and Retry-After when one of its shards is full', async () => {
    const { app, offered, counted } = receiver((shard) => shard !== 2);
    const json = await post(app);
    expect(json.statusCode).toBe(429);
    expect(json.headers['retry-after']).toBe('1');
    expect(json.json()).toEqual({ code: 8, message: expect.stringMatching(/over its buffer limit/) });
    expect(offered).toEqual([]);
    expect(counted.spans('rejected')).toBe(8);
  });

  it('refuses with 503 while shutting down, as a protobuf Status for protobuf requests', async () => {
    const { app, ingest } = receiver();
    ingest.accepting = false;
    const response = await app.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { 'content-type': 'application/x-protobuf' },
      payload: Buffer.alloc(0),
    });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.headers['content-type']).toBe('application/x-protobuf');
    expect(Status.toObject(Status.decode(response.rawPayload))).toMatchObject({ code: 14 });
  });
});
