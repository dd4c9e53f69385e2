import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProto } from '../../src/model/proto-files.ts';
import { beaconWithTrace } from '../support/beacons.ts';
import { docsBeacon } from '../support/docs-beacon.ts';
import { stopThenRelease } from '../support/held-backend.ts';
import { randomTraceId } from '../support/ids.ts';
import { decodeSpans, OtlpSink, type SinkSpan } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { waitFor } from '../support/wait-for.ts';

const TOKEN = 'test-token-0123456789';
const LIGHTSTEP_TOKEN = 'lightstep-secret-value';

describe('beacons in, enriched OTLP protobuf out', () => {
  let sink: OtlpSink;
  let relay: RelayProcess;

  beforeAll(async () => {
    sink = await OtlpSink.start();
    relay = await RelayProcess.start(
      {
        receiver: {
          endpoint: '127.0.0.1:0',
          auth: { tokens: [TOKEN, 'rotated-token-abcdefgh'] },
          max_request_body_size: 65536,
        },
        enrichment: {
          pops: [{ cidr: '127.0.0.0/8', pop: 'LOOPBACK' }],
          default_service_name: 'edge-default',
        },
        workers: { threads: 2 },
        batch: { timeout: '20ms' },
        exporter: {
          traces_endpoint: sink.url,
          headers: { 'lightstep-access-token': '${env:LIGHTSTEP_ACCESS_TOKEN}' },
          retry_on_failure: { initial_interval: '50ms' },
        },
      },
      { LIGHTSTEP_ACCESS_TOKEN: LIGHTSTEP_TOKEN },
    );
  });
  afterAll(async () => {
    await relay?.stop();
    await sink?.close();
  });

  const post = (body: string | Uint8Array, headers: Record<string, string> = {}) =>
    relay.post('/v1/beacons', body, { authorization: `Bearer ${TOKEN}`, ...headers });
  const spansOf = (traceId: string, count: number) =>
    waitFor(() => {
      const spans = sink.spans().filter((s) => s.traceId === traceId);
      return spans.length >= count && spans;
    }, `${count} spans of trace ${traceId} at the sink`);

  it('delivers the docs example with exact ids, times, links, kinds, status, attributes, events and enrichment', async () => {
    const beacon = beaconWithTrace();
    const response = await post(JSON.stringify(beacon));
    expect(response.status).toBe(202);
    expect(await response.text()).toBe('');

    const spans = await spansOf(beacon.traceId, beacon.spans.length);
    expect(spans).toHaveLength(6);
    const byId = new Map<string, SinkSpan>(spans.map((s) => [s.spanId, s]));
    const root = byId.get('00f067aa0ba902b7') as SinkSpan;
    expect(root).toMatchObject({
      name: 'GET /product/:id',
      parentSpanId: '',
      kind: 2,
      startTimeUnixNano: '1764070000123250000',
      endTimeUnixNano: '1764070000164568000',
      flags: 1,
      attributes: {
        'http.request.method': 'GET',
        'url.path': '/product/1234',
        'http.response.status_code': 200n,
        'akamai.request.id': '8f2d61a3',
      },
      resource: {
        'service.name': 'shop-edge',
        'deployment.environment.name': 'production',
        'akamai.edge.ip': '203.0.113.7',
        'akamai.edge.pop': 'FRA',
        'akamai.edgeworker.id': '42817',
        'akamai.edgeworker.version': '1.4.2',
      },
      scope: { name: 'edge-relay/beacon', version: '1' },
    });
    const origin = byId.get('2b3c4d5e6f708192') as SinkSpan;
    expect(origin).toMatchObject({
      parentSpanId: '00f067aa0ba902b7',
      kind: 3,
      startTimeUnixNano: '1764070000124750000',
      endTimeUnixNano: '1764070000161650000',
      events: [{ name: 'first byte', timeUnixNano: '1764070000153500000', attributes: {} }],
    });
    expect(byId.get('1a2b3c4d5e6f7081')).toMatchObject({ startTimeUnixNano: '1764070000123352000', kind: 1 });
    expect(byId.get('5e6f708192a3b4c5')?.status).toEqual({ code: 2, message: 'profile lookup timed out' });
    // All six spans of one beacon share one resource and travel in one ResourceSpans.
    const carrying = sink.requests
      .flatMap((r) => r.decoded.resourceSpans as Record<string, unknown>[])
      .filter((rs) => decodeSpans({ resourceSpans: [rs] }).some((s) => s.traceId === beacon.traceId));
    expect(carrying).toHaveLength(1);
  });

  it('sends OTLP protobuf, gzip-compressed, with the configured headers', async () => {
    const beacon = beaconWithTrace();
    await post(JSON.stringify(beacon));
    await spansOf(beacon.traceId, 6);
    const request = sink.requests.at(-1);
    expect(request?.headers['content-type']).toBe('application/x-protobuf');
    expect(request?.headers['content-encoding']).toBe('gzip');
    expect(request?.headers['lightstep-access-token']).toBe(LIGHTSTEP_TOKEN);
  });

  it('enriches from the peer address and the PoP table when the beacon carries no edge identity', async () => {
    const { edge: _edge, service: _service, ...bare } = beaconWithTrace();
    // Not from a trusted proxy (none is configured): the header must be ignored.
    await post(JSON.stringify(bare), { 'x-forwarded-for': '198.51.100.9' });
    const [span] = await spansOf(bare.traceId, 6);
    expect(span?.resource).toMatchObject({
      'akamai.edge.ip': '127.0.0.1',
      'akamai.edge.pop': 'LOOPBACK',
      'service.name': 'edge-default',
    });
    expect(span?.attributes).not.toHaveProperty('akamai.request.id');
  });

  it('accepts gzip-encoded bodies', async () => {
    const beacon = beaconWithTrace();
    const response = await post(gzipSync(JSON.stringify(beacon)), { 'content-encoding': 'gzip' });
    expect(response.status).toBe(202);
    await spansOf(beacon.traceId, 6);
  });

  it('accepts the binary (protobuf) beacon', async () => {
    const Beacon = loadProto('beacon.proto').lookupType('edgerelay.beacon.v1.Beacon');
    const traceId = randomTraceId();
    const message = Beacon.fromObject({
      v: 1,
      traceId: Buffer.from(traceId, 'hex'),
      ts: 1764070000123.25,
      worker: { id: '42817', version: '1.4.2' },
      edge: { pop: 'AMS' },
      resource: [{ key: 'deployment.environment.name', stringValue: 'staging' }],
      spans: [
        {
          id: Buffer.from('00f067aa0ba902b7', 'hex'),
          name: 'root',
          kind: 1,
          start: 0,
          dur: 2.5,
          attrs: [
            { key: 'n', numberValue: 3 },
            { key: 'tags', listValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } },
          ],
        },
        {
          id: Buffer.from('1a2b3c4d5e6f7081', 'hex'),
          parent: Buffer.from('00f067aa0ba902b7', 'hex'),
          name: 'child',
          start: 0.5,
          dur: 1,
          status: 2,
          message: 'boom',
          events: [{ name: 'e', t: 0.75 }],
        },
      ],
    });
    const response = await post(Beacon.encode(message).finish(), {
      'content-type': 'application/x-protobuf',
    });
    expect(response.status).toBe(202);
    const spans = await spansOf(traceId, 2);
    const root = spans.find((s) => s.name === 'root');
    const child = spans.find((s) => s.name === 'child');
    expect(root).toMatchObject({
      kind: 2,
      attributes: { n: 3n, tags: ['a', 'b'] },
      endTimeUnixNano: '1764070000125750000',
    });
    expect(root?.resource).toMatchObject({
      'akamai.edge.pop': 'AMS',
      'deployment.environment.name': 'staging',
    });
    expect(child).toMatchObject({
      parentSpanId: '00f067aa0ba902b7',
      status: { code: 2, message: 'boom' },
      events: [{ name: 'e', timeUnixNano: '1764070000124000000' }],
    });
  });

  const valid = docsBeacon();
  const withSpan = (change: Record<string, unknown>) =>
    JSON.stringify({ ...valid, spans: [{ ...valid.spans[0], ...change }] });
  const cases: [string, string | Uint8Array, Record<string, string>, number, string][] = [
    ['not JSON', '{"v":1,', {}, 400, 'body is not valid JSON'],
    ['empty body', '', {}, 400, 'body is not valid JSON'],
    ['a JSON array', '[]', {}, 400, 'beacon: must be object'],
    ['wrong version', JSON.stringify({ ...valid, v: 2 }), {}, 400, 'v: must be 1'],
    [
      'missing traceId',
      JSON.stringify({ ...valid, traceId: undefined }),
      {},
      400,
      'traceId: required field is missing',
    ],
    ['short traceId', JSON.stringify({ ...valid, traceId: 'abc' }), {}, 400, 'traceId: must match pattern'],
    [
      'upper-case traceId',
      JSON.stringify({ ...valid, traceId: valid.traceId.toUpperCase() }),
      {},
      400,
      'traceId: must match pattern',
    ],
    [
      'all-zero traceId',
      JSON.stringify({ ...valid, traceId: '0'.repeat(32) }),
      {},
      400,
      'traceId: must not be all zeros',
    ],
    ['all-zero span id', withSpan({ id: '0'.repeat(16) }), {}, 400, 'spans[0].id: must not be all zeros'],
    ['unknown field', JSON.stringify({ ...valid, extra: 1 }), {}, 400, 'extra: unknown field'],
    ['unknown span field', withSpan({ colour: 'red' }), {}, 400, 'spans[0].colour: unknown field'],
    ['negative duration', withSpan({ dur: -1 }), {}, 400, 'spans[0].dur: must be >= 0'],
    ['bad kind', withSpan({ kind: 'sideways' }), {}, 400, 'spans[0].kind: must be one of'],
    ['object attribute', withSpan({ attrs: { a: { b: 1 } } }), {}, 400, 'spans[0].attrs.a'],
    ['no spans', JSON.stringify({ ...valid, spans: [] }), {}, 400, 'spans: must NOT have fewer than 1 items'],
    [
      'bad edge ip',
      JSON.stringify({ ...valid, edge: { ip: 'not-an-ip' } }),
      {},
      400,
      'edge.ip: not an IPv4 or IPv6',
    ],
    [
      'bad protobuf',
      Buffer.from([0xff, 0xff, 0xff]),
      { 'content-type': 'application/x-protobuf' },
      400,
      'not a protobuf',
    ],
    [
      'truncated gzip',
      gzipSync(JSON.stringify(valid)).subarray(0, 20),
      { 'content-encoding': 'gzip' },
      400,
      'not valid gzip',
    ],
    [
      'unknown encoding',
      JSON.stringify(valid),
      { 'content-encoding': 'br' },
      415,
      'content-encoding "br" is not supported',
    ],
    ['wrong media type', JSON.stringify(valid), { 'content-type': 'text/plain' }, 415, 'is not supported'],
    ['too large', 'x'.repeat(70_000), {}, 413, 'larger than 65536 bytes'],
    [
      'gzip bomb',
      gzipSync(Buffer.alloc(1_000_000, 32)),
      { 'content-encoding': 'gzip' },
      413,
      'larger than 65536 bytes',
    ],
    ['no token', JSON.stringify(valid), { authorization: '' }, 401, 'bearer token'],
    [
      'wrong token',
      JSON.stringify(valid),
      { authorization: 'Bearer wrong-token-0123456789' },
      401,
      'bearer token',
    ],
  ];

  it.each(cases)(
    'refuses %s with a 4xx naming the problem',
    async (_name, body, headers, status, message) => {
      const response = await post(body, headers);
      expect(response.status).toBe(status);
      const answer = (await response.json()) as { error: string; message: string };
      expect(answer.message).toContain(message);
    },
  );

  it('keeps serving after all of that, and counts every refusal by reason', async () => {
    const beacon = beaconWithTrace();
    expect((await post(JSON.stringify(beacon))).status).toBe(202);
    await spansOf(beacon.traceId, 6);
    expect(
      await relay.metric('edge_relay_requests_rejected_total', { reason: 'invalid' }),
    ).toBeGreaterThanOrEqual(18);
    expect(
      await relay.metric('edge_relay_requests_rejected_total', { reason: 'unauthorized' }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      await relay.metric('edge_relay_requests_rejected_total', { reason: 'too_large' }),
    ).toBeGreaterThanOrEqual(2);
  });

  it('accepts a rotated second token', async () => {
    const response = await relay.post('/v1/beacons', JSON.stringify(beaconWithTrace()), {
      authorization: 'Bearer rotated-token-abcdefgh',
    });
    expect(response.status).toBe(202);
  });

  it('exposes health, readiness and metrics on the admin endpoint', async () => {
    const admin = `http://127.0.0.1:${relay.adminPort}`;
    expect((await fetch(`${admin}/healthz`)).status).toBe(200);
    expect((await fetch(`${admin}/readyz`)).status).toBe(200);
    expect(await relay.metric('edge_relay_spans_exported_total')).toBeGreaterThanOrEqual(6);
    expect(
      await relay.metric('edge_relay_spans_received_total', { result: 'accepted', protocol: 'beacon' }),
    ).toBeGreaterThanOrEqual(6);
    expect(
      await relay.metric('edge_relay_ack_latency_seconds_count', { route: 'beacons' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('never logs the exporter or the beacon tokens', () => {
    expect(relay.output).not.toContain(LIGHTSTEP_TOKEN);
    expect(relay.output).not.toContain(TOKEN);
  });
});

describe('X-Forwarded-For', () => {
  it('is believed only from a trusted proxy', async () => {
    const sink = await OtlpSink.start();
    const trusted = await RelayProcess.start({
      receiver: { endpoint: '127.0.0.1:0', trusted_proxies: ['127.0.0.0/8'] },
      batch: { timeout: '10ms' },
      workers: { threads: 1 },
      exporter: { traces_endpoint: sink.url },
    });
    try {
      const { edge: _edge, ...bare } = beaconWithTrace();
      await trusted.post('/v1/beacons', JSON.stringify(bare), {
        'x-forwarded-for': '198.51.100.9, 127.0.0.5',
      });
      const span = await waitFor(() => sink.spans().find((s) => s.traceId === bare.traceId), 'the span');
      expect(span.resource['akamai.edge.ip']).toBe('198.51.100.9');
    } finally {
      await trusted.stop();
      await sink.close();
    }
  });
});

describe('acking never waits on export', () => {
  it('acks while the backend hangs, then delivers what it buffered on SIGTERM', async () => {
    const sink = await OtlpSink.start();
    const release = sink.hold();
    const relay = await RelayProcess.start({
      batch: { timeout: '10ms' },
      workers: { threads: 1 },
      exporter: { traces_endpoint: sink.url },
      shutdown_timeout: '20s',
    });
    try {
      const ids = Array.from({ length: 20 }, () => randomTraceId());
      for (const id of ids) {
        expect((await relay.post('/v1/beacons', JSON.stringify(beaconWithTrace(id)))).status).toBe(202);
      }
      // Every beacon was acknowledged while the backend had answered nothing.
      expect(sink.requests).toHaveLength(0);
      expect(await stopThenRelease(relay, release)).toBe(0);
      const delivered = new Set(sink.spans().map((s) => s.traceId));
      expect(ids.filter((id) => !delivered.has(id))).toEqual([]);
      const tally = relay.logLines().find((line) => line.msg === 'edge-relay stopped');
      expect(tally?.exported).toBe(120);
    } finally {
      await relay.stop();
      await sink.close();
    }
  });
});
