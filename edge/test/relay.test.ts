import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { OtlpSink, type SinkSpan } from '../../test/support/otlp-sink.ts';
import { RelayProcess } from '../../test/support/relay-process.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import {
  beaconsSent,
  exampleProperty,
  handlerTimes,
  loadExample,
  SITE,
  TRUSTED,
  tracerOnly,
} from './edge-fixture.ts';
import { HttpStub } from './http-stub.ts';
import { OtelOrigin } from './otel-origin.ts';
import { EdgeServer } from './shim/edge-server.ts';

vi.mock('http-request', () => import('./shim/http-request.ts'));
vi.mock('crypto', () => import('./shim/crypto.ts'));
vi.mock('log', () => import('./shim/log.ts'));

const INCOMING_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const INCOMING_PARENT = '00f067aa0ba902b7';
const T = 1_764_070_000_123;
const ns = (ms: number) => String(BigInt(ms) * 1_000_000n);

// One relay for the file: relay processes are slow to start on a busy machine.
let sink: OtlpSink;
let relay: RelayProcess;
let origin: HttpStub;
let otelOrigin: OtelOrigin;

beforeAll(async () => {
  sink = await OtlpSink.start();
  origin = await HttpStub.start(200);
  relay = await RelayProcess.start({
    exporter: { traces_endpoint: sink.url, compression: 'none', retry_on_failure: { enabled: false } },
    batch: { timeout: '10ms' },
    enrichment: { pops: [{ cidr: '203.0.113.0/24', pop: 'FRA' }] },
  });
  // The origin's SDK exports OTLP to the relay too: the relay must join both halves into one trace.
  otelOrigin = await OtelOrigin.start(`${relay.url}/v1/traces`);
});
afterAll(async () => {
  await otelOrigin?.close();
  await relay?.stop();
  await sink?.close();
  await origin?.close();
});

/** The spans of a trace at the sink, once there are `count` of them. */
const spansOf = (traceId: string, count: number) =>
  waitFor(() => {
    const spans = sink.spans().filter((s) => s.traceId === traceId);
    return spans.length >= count && spans;
  }, `${count} spans of trace ${traceId} at the sink`);

describe('beacons from the example worker, through a real relay, at an OTLP sink', () => {
  test('a continued trace arrives with its spans, parent links, timings and the edge enrichment', async () => {
    const edge = new EdgeServer(loadExample, exampleProperty(origin.url, relay.url));
    const exchange = await edge.handle({
      url: `https://${SITE}/product/1234`,
      headers: {
        ...TRUSTED,
        traceparent: `00-${INCOMING_TRACE}-${INCOMING_PARENT}-01`,
        tracestate: 'congo=t61rcWkgMzE',
      },
      times: handlerTimes(T),
    });
    await edge.settled();
    expect(exchange.errors).toEqual([]);
    expect(edge.subRequests.records.map((r) => r.outcome)).toEqual([202]);
    const [beacon] = beaconsSent(edge);

    const spans = await spansOf(INCOMING_TRACE, 2);
    const byName = (name: string) => spans.find((s) => s.name === name) as SinkSpan;
    const root = byName('GET /product/:id');
    const forward = byName('origin GET');
    expect(spans).toHaveLength(2);
    expect(root).toMatchObject({
      spanId: beacon?.spans[0]?.id,
      parentSpanId: INCOMING_PARENT,
      traceState: 'congo=t61rcWkgMzE',
      // Sampled, and OTLP's bits 8–9: the parent (the caller's traceparent) is remote.
      flags: 0x301,
      kind: 2,
      startTimeUnixNano: ns(T),
      endTimeUnixNano: ns(T + 42),
      scope: { name: 'edge-relay/beacon', version: '1' },
    });
    expect(root.attributes).toEqual({
      'http.request.method': 'GET',
      'url.scheme': 'https',
      'url.path': '/product/:id',
      'server.address': SITE,
      'http.route': '/product/:id',
      'http.response.status_code': 200n,
      'akamai.cache.status': 'miss',
      'shop.variant': 'stable',
      'akamai.request.id': '8f2d61a3',
    });
    expect(forward).toMatchObject({
      parentSpanId: root.spanId,
      kind: 3,
      startTimeUnixNano: ns(T + 3),
      endTimeUnixNano: ns(T + 40),
    });
    // The origin was asked to join the trace as a child of the forward span.
    expect(exchange.originHeaders?.traceparent).toBe(`00-${INCOMING_TRACE}-${forward.spanId}-01`);
    for (const span of spans) {
      expect(span.resource).toEqual({
        'service.name': 'shop-edge',
        'akamai.edge.ip': '203.0.113.7',
        'akamai.edge.pop': 'FRA',
        'akamai.edgeworker.id': 'dev',
        'akamai.edgeworker.version': '0.0.0-dev',
      });
    }
  });

  test('without the edge IP variable, the relay falls back to the address the beacon came from', async () => {
    const edge = new EdgeServer(loadExample, exampleProperty(origin.url, relay.url, { PMUSER_EDGE_IP: '' }));
    await edge.handle({ url: `https://${SITE}/`, cached: true });
    await edge.settled();
    const traceId = beaconsSent(edge)[0]?.traceId ?? '';

    const [span] = await spansOf(traceId, 1);
    expect(span?.resource).toMatchObject({ 'akamai.edge.ip': '127.0.0.1', 'akamai.edge.pop': 'unknown' });
    expect(span?.attributes['akamai.cache.status']).toBe('hit');
  });
});

describe('what the edge client sends that the relay must accept', () => {
  test('hostile hook output still makes a beacon the relay takes, with the dropped attributes counted', async () => {
    const hostile = tracerOnly({
      route: () => ({ not: 'a string' }) as never,
      attributes: () =>
        ({
          'ok.value': 1,
          'null.value': null,
          'object.value': {},
          'nan.value': Number.NaN,
          'long.value': 'x'.repeat(10_000),
          ...Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`extra.${i}`, i])),
        }) as never,
    });
    const edge = new EdgeServer(hostile, exampleProperty(origin.url, relay.url));
    await edge.handle({ url: `https://${SITE}/`, cached: true });
    await edge.settled();
    expect(edge.subRequests.records.map((r) => r.outcome)).toEqual([202]);
    const beacon = beaconsSent(edge)[0];

    const [span] = await spansOf(beacon?.traceId ?? '', 1);
    expect(Object.keys(span?.attributes ?? {})).toHaveLength(65); // 64, and the relay's akamai.request.id
    expect(span?.attributes['long.value']).toHaveLength(4096);
    expect(span?.raw.droppedAttributesCount).toBe(beacon?.spans[0]?.droppedAttrs);
    expect(beacon?.spans[0]?.droppedAttrs).toBeGreaterThan(3);
  });

  test('an edge-sampled beacon’s threshold arrives on the spans as ot=th, for re-weighting', async () => {
    const sampled = tracerOnly({ sampleRate: 0.1, continueTraces: true });
    const edge = new EdgeServer(sampled, exampleProperty(origin.url, relay.url));
    // A trace id whose randomness (its last 56 bits) is kept at 10%.
    const traceId = `${'0'.repeat(18)}ffffffffffffff`;
    await edge.handle({
      url: `https://${SITE}/`,
      cached: true,
      headers: { traceparent: `00-${traceId}-${INCOMING_PARENT}-01`, tracestate: 'congo=t61rcWkgMzE' },
    });
    await edge.settled();
    const th = beaconsSent(edge)[0]?.th ?? '';
    // p = 1 - th / 2^56, to the 52 bits the client computes with.
    expect(1 - Number.parseInt(th.padEnd(14, '0'), 16) / 2 ** 56).toBeCloseTo(0.1, 12);

    const [span] = await spansOf(traceId, 1);
    expect(span?.traceState).toBe(`ot=th:${th},congo=t61rcWkgMzE`);
  });
});

describe('edge trace continued by an OpenTelemetry SDK origin sending OTLP to the relay', () => {
  // The origin's sampler keeps no trace of its own: it records only because the edge marks the forward
  // request sampled (docs/edge.md), also when the caller had not sampled.
  test.each([
    ['started at the edge', '', ''],
    [
      'from an unsampled caller',
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00',
      'b7ad6b7169203331',
    ],
  ])(
    'a trace %s arrives as one trace: the origin span is the child of the edge forward span',
    async (_what, traceparent, callerSpan) => {
      const edge = new EdgeServer(loadExample, exampleProperty(otelOrigin.url, relay.url));
      const headers: Record<string, string> = traceparent ? { ...TRUSTED, traceparent } : {};
      const exchange = await edge.handle({ url: `https://${SITE}/product/1234`, headers });
      await edge.settled();
      await otelOrigin.provider.forceFlush();
      expect(exchange.status).toBe(200);
      const traceId = beaconsSent(edge)[0]?.traceId ?? '';
      if (traceparent) expect(traceparent).toContain(`-${traceId}-`);

      const spans = await spansOf(traceId, 3);
      const edgeSpan = (kind: number) =>
        spans.find((s) => s.resource['service.name'] === 'shop-edge' && s.kind === kind);
      const [root, forward] = [edgeSpan(2), edgeSpan(3)];
      const served = spans.find((s) => s.resource['service.name'] === 'shop-origin');
      expect(spans).toHaveLength(3);
      expect(root?.parentSpanId).toBe(callerSpan);
      expect(forward?.parentSpanId).toBe(root?.spanId);
      expect(served?.parentSpanId).toBe(forward?.spanId);
      expect((served?.flags ?? 0) & 1).toBe(1);
    },
  );
});
