import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { type Attributes, context, type Link, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProto } from '../../src/model/proto-files.ts';
import { randomSpanId, randomTraceId } from '../support/ids.ts';
import { OtlpSink, type SinkRequest } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { waitFor } from '../support/wait-for.ts';

const service = loadProto('opentelemetry/proto/collector/trace/v1/trace_service.proto');
const Request = service.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const Response = service.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
const Status = loadProto('google/rpc/status.proto').lookupType('google.rpc.Status');

const MAX_BODY = 65536;
type Flat = {
  resource: unknown;
  resourceSchemaUrl: unknown;
  scope: unknown;
  scopeSchemaUrl: unknown;
  span: any;
};

/** Every span of an ExportTraceServiceRequest with its resource and scope, every field present (defaults too). */
function flatten(body: Uint8Array): Flat[] {
  const decoded = Request.toObject(Request.decode(body), {
    longs: String,
    bytes: String,
    defaults: true,
    arrays: true,
    oneofs: false,
  }) as any;
  const out: Flat[] = [];
  for (const rs of decoded.resourceSpans)
    for (const ss of rs.scopeSpans)
      for (const span of ss.spans)
        out.push({
          resource: rs.resource,
          resourceSchemaUrl: rs.schemaUrl,
          scope: ss.scope,
          scopeSchemaUrl: ss.schemaUrl,
          span,
        });
  return out;
}

const bodyOf = (request: SinkRequest): Uint8Array =>
  request.headers['content-encoding'] === 'gzip' ? gunzipSync(request.body) : request.body;

const resource = resourceFromAttributes(
  { 'service.name': 'checkout-api', 'service.version': '4.2.0', 'host.cpus': 8, 'feature.flags': ['a', 'b'] },
  { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' },
);
const scope = { name: 'checkout', version: '2.1.0', schemaUrl: 'https://opentelemetry.io/schemas/1.29.0' };

/** A span using every field the SDK data model has, including values only the exporters' transformer knows. */
function fullSpan(traceId: string, parent?: string): ReadableSpan {
  const spanId = randomSpanId();
  const attributes = {
    'http.request.method': 'POST',
    'http.response.status_code': 503,
    'negative.int': -42,
    ratio: 0.125,
    retried: true,
    tags: ['x', 'y', ''],
    codes: [200, 201],
    payload: new Uint8Array([0, 1, 127, 128, 255]),
    nested: { inner: 'value', deeper: { list: [1, 'two', false] } },
  } as unknown as Attributes;
  const link: Link = {
    context: {
      traceId: randomTraceId(),
      spanId: randomSpanId(),
      traceFlags: 1,
      traceState: new TraceState('other=1'),
    },
    attributes: { 'link.reason': 'retry-of' },
    droppedAttributesCount: 2,
  };
  return {
    name: `POST /cart ${spanId}`,
    kind: SpanKind.SERVER,
    spanContext: () => ({
      traceId,
      spanId,
      traceFlags: 1,
      traceState: new TraceState('vendor=abc,rojo=00f0'),
    }),
    parentSpanContext: parent ? { traceId, spanId: parent, traceFlags: 1, isRemote: true } : undefined,
    startTime: [1764000000, 123456789],
    endTime: [1764000001, 987654321],
    duration: [1, 864197532],
    ended: true,
    status: { code: SpanStatusCode.ERROR, message: 'upstream timed out' },
    attributes,
    links: [link],
    events: [
      {
        name: 'exception',
        time: [1764000000, 500000001],
        attributes: { 'exception.type': 'Timeout', 'exception.count': 3 },
        droppedAttributesCount: 1,
      },
    ],
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 3,
    droppedEventsCount: 4,
    droppedLinksCount: 5,
  };
}

const exportWith = (exporter: SpanExporter, spans: ReadableSpan[]) =>
  new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(spans, resolve));

describe('OTLP/HTTP receiver', () => {
  let sink: OtlpSink;
  let relay: RelayProcess;

  beforeAll(async () => {
    sink = await OtlpSink.start();
    relay = await RelayProcess.start({
      receiver: { endpoint: '127.0.0.1:0', max_request_body_size: MAX_BODY },
      enrichment: { pops: [{ cidr: '10.0.0.0/8', pop: 'FRA' }] },
      workers: { threads: 2 },
      batch: { timeout: '20ms' },
      exporter: { traces_endpoint: sink.url, retry_on_failure: { initial_interval: '50ms' } },
    });
  });
  afterAll(async () => {
    await relay?.stop();
    await sink?.close();
  });

  const traces = `/v1/traces`;
  /** What the sink has received of these spans, flattened; waits until all of them are there. */
  const received = (spanIds: string[]) =>
    waitFor(() => {
      const spans = sink.requests
        .flatMap((r) => flatten(bodyOf(r)))
        .filter((f) => spanIds.includes(Buffer.from(f.span.spanId, 'base64').toString('hex')));
      return spans.length === spanIds.length && spans;
    }, `${spanIds.length} spans at the sink`);
  const bySpanId = (a: Flat, b: Flat) => String(a.span.spanId).localeCompare(String(b.span.spanId));

  for (const [protocol, Exporter] of [
    ['protobuf', ProtoExporter],
    ['JSON', JsonExporter],
  ] as const) {
    it(`relays every field sent by the ${protocol} exporter exactly`, async () => {
      const spans: ReadableSpan[] = [];
      for (let t = 0; t < 6; t++) {
        const traceId = randomTraceId();
        const root = fullSpan(traceId);
        spans.push(root, fullSpan(traceId, root.spanContext().spanId));
      }
      // The protobuf exporter compresses, as the Collector's otlphttp exporter does by default.
      const compression = (protocol === 'protobuf' ? 'gzip' : 'none') as never;
      const exporter = new Exporter({ url: `${relay.url}${traces}`, compression });
      const result = await exportWith(exporter, spans);
      expect(result.error).toBeUndefined();
      expect(result.code).toBe(0);
      await exporter.shutdown();

      const sent = flatten(ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array).sort(bySpanId);
      const got = (await received(spans.map((s) => s.spanContext().spanId))).sort(bySpanId);
      expect(got).toEqual(sent);
      // Spelled out for the fields most easily lost: exact nanoseconds, ids, bytes, nesting.
      const first = got[0] as Flat;
      expect(first.span.startTimeUnixNano).toBe('1764000000123456789');
      expect(first.span.endTimeUnixNano).toBe('1764000001987654321');
      expect(first.span.events[0].timeUnixNano).toBe('1764000000500000001');
      expect(first.span.traceState).toBe('vendor=abc,rojo=00f0');
      expect(first.resourceSchemaUrl).toBe('https://opentelemetry.io/schemas/1.30.0');
      expect(first.scopeSchemaUrl).toBe('https://opentelemetry.io/schemas/1.29.0');
      const payload = first.span.attributes.find((a: any) => a.key === 'payload');
      expect(Buffer.from(payload.value.bytesValue, 'base64')).toEqual(Buffer.from([0, 1, 127, 128, 255]));
      const nested = first.span.attributes.find((a: any) => a.key === 'nested');
      expect(
        nested.value.kvlistValue.values[1].value.kvlistValue.values[0].value.arrayValue.values,
      ).toHaveLength(3);
    });
  }

  it('takes spans from a real SDK tracer provider', async () => {
    const memory = new InMemorySpanExporter();
    const provider = new TracerProvider({
      resource,
      spanProcessors: [
        new BatchSpanProcessor({ exporter: new ProtoExporter({ url: `${relay.url}${traces}` }) }),
        new SimpleSpanProcessor({ exporter: memory }),
      ],
    });
    const tracer = provider.getTracer('sdk-test', '1.0.0');
    const parent = tracer.startSpan('parent', {
      kind: SpanKind.CLIENT,
      attributes: { 'peer.service': 'db' },
    });
    const child = tracer.startSpan('child', {}, trace.setSpan(context.active(), parent));
    child.addEvent('cache.miss', { key: 'user:1' });
    child.setStatus({ code: SpanStatusCode.OK });
    child.end();
    parent.end();
    await provider.forceFlush();
    await provider.shutdown();
    const finished = memory.getFinishedSpans();
    const got = await received(finished.map((s) => s.spanContext().spanId));
    expect(got.sort(bySpanId)).toEqual(
      flatten(ProtobufTraceSerializer.serializeRequest(finished) as Uint8Array).sort(bySpanId),
    );
  });

  const postJson = (body: unknown, headers: Record<string, string> = {}) =>
    relay.post(traces, typeof body === 'string' ? body : JSON.stringify(body), headers);
  const postProto = (body: Uint8Array, headers: Record<string, string> = {}) =>
    relay.post(traces, body, { 'content-type': 'application/x-protobuf', ...headers });
  const jsonSpan = (traceId: string, spanId: string, extra: Record<string, unknown> = {}) => ({
    traceId,
    spanId,
    name: 'json-span',
    startTimeUnixNano: '1764000000000000001',
    endTimeUnixNano: 1764000000000001,
    ...extra,
  });
  const jsonRequest = (spans: unknown[], resourceAttributes: unknown[] = []) => ({
    resourceSpans: [
      { resource: { attributes: resourceAttributes }, scopeSpans: [{ scope: { name: 's' }, spans }] },
    ],
  });

  it('answers partial success, naming the first rejected span, and relays the rest (JSON)', async () => {
    const good = randomSpanId();
    const response = await postJson(
      jsonRequest([
        jsonSpan(randomTraceId(), 'abcd'),
        jsonSpan(randomTraceId(), good),
        jsonSpan('0'.repeat(32), randomSpanId()),
      ]),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as any;
    expect(body.partialSuccess.rejectedSpans).toBe('2');
    expect(body.partialSuccess.errorMessage).toMatch(
      /2 of 3 spans rejected.*spans\[0\]: span_id must be 8 bytes/,
    );
    const [span] = await received([good]);
    expect(span?.span.startTimeUnixNano).toBe('1764000000000000001');
    expect(span?.span.endTimeUnixNano).toBe('1764000000000001');
  });

  it('answers partial success as a protobuf ExportTraceServiceResponse', async () => {
    const good = randomSpanId();
    const request = Request.encode(
      Request.fromObject({
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: Buffer.from(randomTraceId(), 'hex'),
                    spanId: Buffer.from(good, 'hex'),
                    name: 'ok',
                  },
                  {
                    traceId: randomBytes(8), // half a trace id: the span the receiver rejects
                    spanId: Buffer.from(randomSpanId(), 'hex'),
                    name: 'short',
                  },
                ],
              },
            ],
          },
        ],
      }),
    ).finish();
    const response = await postProto(request);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-protobuf');
    const decoded = Response.toObject(Response.decode(new Uint8Array(await response.arrayBuffer())), {
      longs: String,
    }) as any;
    expect(decoded.partialSuccess.rejectedSpans).toBe('1');
    expect(decoded.partialSuccess.errorMessage).toMatch(/trace_id must be 16 bytes/);
    await received([good]);
  });

  it('answers a fully accepted request with an empty response in its own encoding', async () => {
    const json = await postJson(jsonRequest([jsonSpan(randomTraceId(), randomSpanId())]));
    expect(json.status).toBe(200);
    expect(await json.json()).toEqual({});
    const proto = await postProto(
      Request.encode({
        resourceSpans: [
          { scopeSpans: [{ spans: [{ traceId: randomBytes(16), spanId: randomBytes(8), name: 'p' }] }] },
        ],
      }).finish(),
    );
    expect(proto.status).toBe(200);
    expect((await proto.arrayBuffer()).byteLength).toBe(0);
  });

  it('keeps 64-bit integers beyond 2^53 exact, from strings and numbers, and accepts proto field names', async () => {
    const id = randomSpanId();
    const response = await postJson({
      resource_spans: [
        {
          scope_spans: [
            {
              spans: [
                jsonSpan(randomTraceId(), id, {
                  kind: 2,
                  attributes: [
                    { key: 'big', value: { intValue: '9007199254740993' } },
                    { key: 'min', value: { int_value: '-9223372036854775808' } },
                    { key: 'num', value: { intValue: 12 } },
                  ],
                  status: { code: 2, message: 'bad' },
                }),
              ],
            },
          ],
        },
      ],
    });
    expect(response.status).toBe(200);
    const [span] = await received([id]);
    const values = Object.fromEntries(span?.span.attributes.map((a: any) => [a.key, a.value.intValue]));
    expect(values).toEqual({ big: '9007199254740993', min: '-9223372036854775808', num: '12' });
    expect(span?.span.kind).toBe(2);
    expect(span?.span.status).toEqual({ code: 2, message: 'bad' });
  });

  it('adds the PoP to a resource that names its edge ip, and leaves origin resources alone', async () => {
    const edgeSpan = randomSpanId();
    const originSpan = randomSpanId();
    await postJson(
      jsonRequest(
        [jsonSpan(randomTraceId(), edgeSpan)],
        [{ key: 'akamai.edge.ip', value: { stringValue: '10.1.2.3' } }],
      ),
    );
    await postJson(
      jsonRequest(
        [jsonSpan(randomTraceId(), originSpan)],
        [{ key: 'service.name', value: { stringValue: 'o' } }],
      ),
    );
    const [edge] = await received([edgeSpan]);
    const [origin] = await received([originSpan]);
    expect(((edge as Flat).resource as any).attributes.map((a: any) => [a.key, a.value.stringValue])).toEqual(
      [
        ['akamai.edge.ip', '10.1.2.3'],
        ['akamai.edge.pop', 'FRA'],
      ],
    );
    expect(((origin as Flat).resource as any).attributes.map((a: any) => a.key)).toEqual(['service.name']);
  });

  const statusOf = async (response: Response) => {
    if (response.headers.get('content-type')?.startsWith('application/x-protobuf'))
      return Status.toObject(Status.decode(new Uint8Array(await response.arrayBuffer()))) as {
        code: number;
        message: string;
      };
    return (await response.json()) as { code: number; message: string };
  };

  it.each([
    [
      'malformed protobuf',
      () => postProto(Buffer.from([0x0a, 0xff, 0xff, 0x01])),
      400,
      /protobuf ExportTraceServiceRequest/,
    ],
    ['malformed JSON', () => postJson('{"resourceSpans": ['), 400, /not valid JSON/],
    [
      'a wrong type',
      () => postJson(jsonRequest([jsonSpan(randomTraceId(), randomSpanId(), { startTimeUnixNano: 'soon' })])),
      400,
      /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.startTimeUnixNano: expected an unsigned 64-bit integer/,
    ],
    [
      'attribute values nested too deep',
      () => {
        let value: unknown = { stringValue: 'bottom' };
        for (let i = 0; i < 100; i++) value = { arrayValue: { values: [value] } };
        return postJson(
          jsonRequest([jsonSpan(randomTraceId(), randomSpanId(), { attributes: [{ key: 'deep', value }] })]),
        );
      },
      400,
      /nest deeper than 32 levels/,
    ],
    ['an oversize body', () => postProto(Buffer.alloc(MAX_BODY + 1)), 413, /larger than|too large/],
    [
      'a gzip bomb',
      () => postProto(gzipSync(Buffer.alloc(MAX_BODY * 4)), { 'content-encoding': 'gzip' }),
      413,
      /larger than/,
    ],
    [
      'truncated gzip',
      () =>
        postJson(gzipSync(JSON.stringify(jsonRequest([]))).subarray(0, 12), { 'content-encoding': 'gzip' }),
      400,
      /gzip/,
    ],
    [
      'an unsupported content type',
      () => postJson('x', { 'content-type': 'text/plain' }),
      415,
      /not supported/,
    ],
  ])('refuses %s with a google.rpc.Status naming the problem', async (_what, send, status, message) => {
    const response = await send();
    expect(response.status).toBe(status);
    const body = await statusOf(response);
    expect(body.code).toBe(3);
    expect(body.message).toMatch(message);
    // The relay keeps serving.
    expect((await postJson(jsonRequest([jsonSpan(randomTraceId(), randomSpanId())]))).status).toBe(200);
  });

  it('counts OTLP spans and refusals in the metrics', async () => {
    expect(
      await relay.metric('edge_relay_spans_received_total', { protocol: 'otlp', result: 'accepted' }),
    ).toBeGreaterThan(20);
    expect(
      await relay.metric('edge_relay_spans_received_total', { protocol: 'otlp', result: 'rejected' }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      await relay.metric('edge_relay_requests_rejected_total', { reason: 'invalid' }),
    ).toBeGreaterThanOrEqual(5);
    expect(await relay.metric('edge_relay_ack_latency_seconds_count', { route: 'traces' })).toBeGreaterThan(
      5,
    );
  });
});
