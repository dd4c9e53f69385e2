import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProto } from '../../src/model/proto-files.ts';
import { settledAccounting } from '../support/accounting.ts';
import { uniqueBeacon } from '../support/beacons.ts';
import { faultConfig } from '../support/fault-config.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { waitFor } from '../support/wait-for.ts';

const hexId = (bytes: number): string => randomBytes(bytes).toString('hex');

/** An OTLP/JSON request of one span, as text; `resource`, `scope` and `span` are spliced in as given. */
function otlpJson(spanId: string, { resource = '{}', scope = '{}', span = '' } = {}): string {
  const spanFields = `"traceId":"${hexId(16)}","spanId":"${spanId}","name":"n"${span ? `,${span}` : ''}`;
  return `{"resourceSpans":[{"resource":${resource},"scopeSpans":[{"scope":${scope},"spans":[{${spanFields}}]}]}]}`;
}

/** An unknown key nested `depth` levels deep: 8.9 KB at the depth that once overflowed the stack. */
const deepUnknown = (depth: number): string => `"unknown":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

// Generous: these start relay processes on a shared 2-core machine.
describe('hostile OTLP/JSON', { timeout: 120_000 }, () => {
  let sink: OtlpSink;
  let relay: RelayProcess;
  beforeAll(async () => {
    sink = await OtlpSink.start();
    relay = await RelayProcess.start(faultConfig(sink.url));
  });
  afterAll(async () => {
    await relay?.stop();
    await sink?.close();
  });

  it('ignores unknown keys nested thousands deep in the resource, the scope or the span', async () => {
    const ids: string[] = [];
    for (const where of ['resource', 'scope', 'span'] as const) {
      const spanId = hexId(8);
      ids.push(spanId);
      const fields = where === 'span' ? deepUnknown(4400) : `{${deepUnknown(4400)}}`;
      const response = await relay.post('/v1/traces', otlpJson(spanId, { [where]: fields }));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({});
    }
    await waitFor(
      () => ids.every((id) => sink.spans().some((s) => s.spanId === id)),
      'the spans at the sink',
    );
  });

  it.each([
    ['intValue', '"attributes":[{"key":"big","value":{"intValue":1e300}}]'],
    ['startTimeUnixNano', '"startTimeUnixNano":1e300'],
    ['endTimeUnixNano', '"endTimeUnixNano":18446744073709551616'],
  ])('refuses a JSON number for %s that cannot be exact with 400 naming the field', async (key, span) => {
    const response = await relay.post('/v1/traces', otlpJson(hexId(8), { span }));
    expect(response.status).toBe(400);
    const status = (await response.json()) as { code: number; message: string };
    expect(status.code).toBe(3);
    expect(status.message).toContain(`resourceSpans[0].scopeSpans[0].spans[0].`);
    expect(status.message).toContain(`${key}: `);
    expect(status.message).toContain('cannot be represented exactly as a JSON number');
  });

  it('has accounted for every span it took', async () => {
    const accounting = await settledAccounting(relay);
    expect(accounting.received).toBe(3);
    expect(accounting.droppedTotal).toBe(0);
    expect(relay.logLines().filter((line) => (line.level as number) >= 50)).toEqual([]);
  });
});

const TOKEN = 'beacon-token-0123456789';
const BeaconMessage = loadProto('beacon.proto').lookupType('edgerelay.beacon.v1.Beacon');

/** A one-span beacon as protobuf; its span gets `attrs` (string values) and `parent` (hex) if given. */
function protoBeacon(spanId: string, attrs: Record<string, string>, parent?: string): Buffer {
  const message = BeaconMessage.fromObject({
    v: 1,
    traceId: Buffer.from(hexId(16), 'hex'),
    ts: Date.now(),
    worker: { id: '1', version: '1' },
    spans: [
      {
        id: Buffer.from(spanId, 'hex'),
        parent: parent ? Buffer.from(parent, 'hex') : undefined,
        name: 'span',
        start: 0,
        dur: 1,
        attrs: Object.entries(attrs).map(([key, stringValue]) => ({ key, stringValue })),
      },
    ],
  });
  return Buffer.from(BeaconMessage.encode(message).finish());
}

describe('the smaller holes in beacon ingest and auth', { timeout: 120_000 }, () => {
  let sink: OtlpSink;
  let relay: RelayProcess;
  let shedding: RelayProcess;
  beforeAll(async () => {
    sink = await OtlpSink.start();
    relay = await RelayProcess.start({
      ...faultConfig(sink.url),
      receiver: { endpoint: '127.0.0.1:0', auth: { tokens: [TOKEN] } },
    });
    // A memory limit every relay is above: it refuses all data, from the first check on.
    shedding = await RelayProcess.start({
      ...faultConfig(sink.url),
      receiver: { endpoint: '127.0.0.1:0', auth: { tokens: [TOKEN] } },
      memory_limiter: { check_interval: '50ms', limit_mib: 8, spike_limit_mib: 4 },
    });
  });
  afterAll(async () => {
    await relay?.stop();
    await shedding?.stop();
    await sink?.close();
  });
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('answers a caller without a valid token 401 even while shedding, and says nothing of memory', async () => {
    const beacon = uniqueBeacon(1, 9).text;
    await waitFor(
      async () => (await shedding.post('/v1/beacons', beacon, auth)).status === 429,
      'the relay to shed',
    );
    const refused: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token-0123456789' }];
    for (const headers of refused) {
      const response = await shedding.post('/v1/beacons', beacon, headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('retry-after')).toBe(null);
      expect(await response.text()).not.toContain('memory');
    }
    const traces = await shedding.post('/v1/traces', '{}');
    expect(traces.status).toBe(401);
  });

  it('takes the Authorization scheme in any case', async () => {
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      const response = await relay.post('/v1/beacons', uniqueBeacon(10, 9).text, {
        authorization: `${scheme} ${TOKEN}`,
      });
      expect(response.status).toBe(202);
    }
    expect((await relay.post('/v1/beacons', uniqueBeacon(11, 9).text)).status).toBe(401);
  });

  it('keeps a protobuf beacon attribute keyed __proto__, as it does for JSON', async () => {
    const protoId = hexId(8);
    // Parsed, since an object literal's __proto__ would set its prototype rather than a key.
    const attrs = JSON.parse('{"__proto__":"kept","other":"also"}') as Record<string, string>;
    const proto = protoBeacon(protoId, attrs);
    const protoResponse = await relay.post('/v1/beacons', proto, {
      ...auth,
      'content-type': 'application/x-protobuf',
    });
    expect(protoResponse.status).toBe(202);
    const json = JSON.parse(uniqueBeacon(12, 9).text) as { spans: { id: string; attrs?: unknown }[] };
    const jsonId = (json.spans[0] as { id: string }).id;
    (json.spans[0] as { attrs: unknown }).attrs = attrs;
    expect((await relay.post('/v1/beacons', JSON.stringify(json), auth)).status).toBe(202);
    const spans = await waitFor(() => {
      const found = [protoId, jsonId].map((id) => sink.spans().find((s) => s.spanId === id));
      return found.every(Boolean) && found;
    }, 'both spans at the sink');
    for (const span of spans) {
      expect(Object.getOwnPropertyDescriptor(span?.attributes, '__proto__')?.value).toBe('kept');
      expect(span?.attributes.other).toBe('also');
    }
  });

  it('refuses a beacon span whose parent id is all zeros, as OTLP does', async () => {
    const zero = '0'.repeat(16);
    const json = JSON.parse(uniqueBeacon(13, 9).text) as { spans: { parent?: string }[] };
    (json.spans[1] as { parent?: string }).parent = zero;
    const jsonResponse = await relay.post('/v1/beacons', JSON.stringify(json), auth);
    expect(jsonResponse.status).toBe(400);
    expect(((await jsonResponse.json()) as { message: string }).message).toBe(
      'spans[1].parent: must not be all zeros (omit it for a root span)',
    );
    const protoResponse = await relay.post('/v1/beacons', protoBeacon(hexId(8), {}, zero), {
      ...auth,
      'content-type': 'application/x-protobuf',
    });
    expect(protoResponse.status).toBe(400);
    expect(((await protoResponse.json()) as { message: string }).message).toContain('spans[0].parent');
  });
});
