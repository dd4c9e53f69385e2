import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import {
  BEACONS,
  beaconsSent,
  exampleProperty,
  handlerTimes,
  loadExample,
  SITE,
} from '../test/edge-fixture.ts';
import { HttpStub } from '../test/http-stub.ts';
import { EdgeServer, type WorkerModule } from '../test/shim/edge-server.ts';
import { parseTraceparent, parseTracestate, type Tracer, type TracerOptions } from './index.js';

vi.mock('http-request', () => import('../test/shim/http-request.ts'));

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const T = 1_764_070_000_123;

describe('parseTraceparent (W3C Trace Context)', () => {
  test('reads version 00', () => {
    expect(parseTraceparent([`00-${TRACE}-${PARENT}-01`])).toEqual({
      traceId: TRACE,
      parentId: PARENT,
      sampled: true,
    });
    expect(parseTraceparent([`00-${TRACE}-${PARENT}-00`])?.sampled).toBe(false);
    expect(parseTraceparent([`00-${TRACE}-${PARENT}-03`])?.sampled).toBe(true);
  });

  test('reads a later version by its first four fields', () => {
    expect(parseTraceparent([`cc-${TRACE}-${PARENT}-01-what-the-future-holds`])?.traceId).toBe(TRACE);
    expect(parseTraceparent([`cc-${TRACE}-${PARENT}-01`])?.traceId).toBe(TRACE);
  });

  test.each([
    ['absent', null],
    ['repeated', [`00-${TRACE}-${PARENT}-01`, `00-${TRACE}-${PARENT}-01`]],
    ['version ff', [`ff-${TRACE}-${PARENT}-01`]],
    ['version 00 with more fields', [`00-${TRACE}-${PARENT}-01-extra`]],
    ['a later version followed by other than a dash', [`cc-${TRACE}-${PARENT}-01x`]],
    ['uppercase hex', [`00-${TRACE.toUpperCase()}-${PARENT}-01`]],
    ['an all-zero trace id', [`00-${'0'.repeat(32)}-${PARENT}-01`]],
    ['an all-zero parent id', [`00-${TRACE}-${'0'.repeat(16)}-01`]],
    ['a short trace id', [`00-${TRACE.slice(1)}-${PARENT}-01`]],
    ['non-hex flags', [`00-${TRACE}-${PARENT}-0x`]],
  ])('refuses %s', (_what, values) => {
    expect(parseTraceparent(values)).toBeUndefined();
  });
});

describe('parseTracestate', () => {
  test('joins repeated headers and drops empty members', () => {
    expect(parseTracestate(['congo=t61rcWkgMzE, ', 'rojo=00f067aa0ba902b7,tenant@vendor=x'])).toBe(
      'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7,tenant@vendor=x',
    );
  });

  test.each([
    ['absent', null],
    ['a malformed member', ['congo=ok,Rojo=upper']],
    ['a member without a value separator', ['congo']],
    ['more than 32 members', [Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')]],
    ['more than 512 characters', [`k=${'v'.repeat(250)},l=${'v'.repeat(260)}`]],
  ])('drops %s', (_what, values) => {
    expect(parseTracestate(values)).toBeUndefined();
  });
});

describe('the example worker under the EdgeWorkers shim', () => {
  let origin: HttpStub;
  let relay: HttpStub;

  beforeAll(async () => {
    origin = await HttpStub.start(200);
    relay = await HttpStub.start(202);
  });
  afterAll(async () => {
    await origin.close();
    await relay.close();
  });
  beforeEach(() => {
    origin.status = 200;
    relay.status = 202;
    origin.requests.length = 0;
    relay.requests.length = 0;
  });

  const edgeFor = (variables: Record<string, string> = {}, load: () => Promise<WorkerModule> = loadExample) =>
    new EdgeServer(load, exampleProperty(origin.url, relay.url, variables));

  test('starts a trace, propagates it to the origin and posts one beacon with the measured spans', async () => {
    const edge = edgeFor();
    const exchange = await edge.handle({
      url: `https://${SITE}/product/1234?beta=1`,
      times: handlerTimes(T),
    });
    await edge.settled();

    expect(exchange.errors).toEqual([]);
    const [beacon, ...more] = beaconsSent(edge);
    expect(more).toEqual([]);
    if (!beacon) throw new Error('no beacon');
    const [root, forward] = beacon.spans;
    expect(beacon).toMatchObject({
      v: 1,
      flags: 1,
      ts: T,
      worker: { id: 'dev', version: '0.0.0-dev' },
      edge: { ip: '203.0.113.7', requestId: '8f2d61a3' },
      service: 'shop-edge',
    });
    expect(beacon.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(beacon.traceState).toBeUndefined();
    expect(root).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{16}$/),
      name: 'GET /product/:id',
      kind: 'server',
      start: 0,
      dur: 42,
      attrs: {
        'http.request.method': 'GET',
        'url.scheme': 'https',
        'url.path': '/product/1234',
        'server.address': SITE,
        'http.route': '/product/:id',
        'http.response.status_code': 200,
        'akamai.cache.status': 'miss',
        'shop.variant': 'beta',
      },
    });
    expect(forward).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{16}$/),
      parent: root?.id,
      name: 'origin GET',
      kind: 'client',
      start: 3,
      dur: 37,
      attrs: { 'http.request.method': 'GET', 'server.address': SITE, 'http.response.status_code': 200 },
    });
    // The origin joins the trace as a child of the edge's forward span, sampled.
    expect(exchange.originHeaders?.traceparent).toBe(`00-${beacon.traceId}-${forward?.id}-01`);
    expect(exchange.originHeaders?.['x-shop-variant']).toBe('beta');

    const [sent] = edge.subRequests.records;
    expect(sent).toMatchObject({ handler: 'onClientResponse', method: 'POST', outcome: 202 });
    expect(sent?.url).toBe(`https://${BEACONS}/v1/beacons`);
    expect(sent?.headers['content-type']).toBe('application/json');
    expect(sent?.headers['x-edge-relay-trace-id']).toBe(beacon.traceId);
    expect(relay.requests.map((r) => r.url)).toEqual(['/v1/beacons']);
  });

  test('continues an incoming trace with its tracestate, and marks the forward sampled', async () => {
    const edge = edgeFor();
    const exchange = await edge.handle({
      url: `https://${SITE}/cart`,
      headers: { traceparent: `00-${TRACE}-${PARENT}-00`, tracestate: 'congo=t61rcWkgMzE' },
      times: handlerTimes(T),
    });
    await edge.settled();

    const [beacon] = beaconsSent(edge);
    expect(beacon).toMatchObject({ traceId: TRACE, traceState: 'congo=t61rcWkgMzE', flags: 1 });
    expect(beacon?.spans[0]).toMatchObject({ parent: PARENT, name: 'GET' });
    expect(exchange.originHeaders?.traceparent).toBe(`00-${TRACE}-${beacon?.spans[1]?.id}-01`);
    expect(exchange.originHeaders?.tracestate).toBe('congo=t61rcWkgMzE');
  });

  /** A worker that is only the tracer, with these options. */
  const tracerOnly =
    (options: Partial<TracerOptions> = {}) =>
    async (): Promise<Tracer> => {
      const { createTracer } = await import('./index.js');
      return createTracer({
        url: `https://${BEACONS}/v1/beacons`,
        worker: { id: '1', version: '1' },
        ...options,
      });
    };

  test('with honorSampled, forwards the caller’s unsampled flag', async () => {
    const edge = edgeFor({}, tracerOnly({ honorSampled: true }));
    const exchange = await edge.handle({
      url: `https://${SITE}/`,
      headers: { traceparent: `00-${TRACE}-${PARENT}-00` },
    });
    await edge.settled();

    expect(exchange.originHeaders?.traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`));
    expect(beaconsSent(edge)[0]?.flags).toBe(0);
  });

  test('starts a new trace for an invalid traceparent and drops the tracestate that came with it', async () => {
    const edge = edgeFor();
    const exchange = await edge.handle({
      url: `https://${SITE}/`,
      headers: { traceparent: `00-${'0'.repeat(32)}-${PARENT}-01`, tracestate: 'congo=t61rcWkgMzE' },
    });
    await edge.settled();

    const [beacon] = beaconsSent(edge);
    expect(beacon?.traceId).not.toBe('0'.repeat(32));
    expect(beacon?.traceState).toBeUndefined();
    expect(beacon?.spans[0]?.parent).toBeUndefined();
    expect(exchange.originHeaders?.traceparent).toMatch(new RegExp(`^00-${beacon?.traceId}-`));
    expect(exchange.originHeaders?.tracestate).toBeUndefined();
  });

  test('with continueTraces false, starts a new trace whatever the caller sent', async () => {
    const edge = edgeFor({}, tracerOnly({ continueTraces: false }));
    const exchange = await edge.handle({
      url: `https://${SITE}/`,
      headers: { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'congo=t61rcWkgMzE' },
    });
    await edge.settled();

    const [beacon] = beaconsSent(edge);
    expect(beacon?.traceId).not.toBe(TRACE);
    expect(beacon?.spans[0]?.parent).toBeUndefined();
    expect(exchange.originHeaders?.traceparent).toMatch(new RegExp(`^00-${beacon?.traceId}-`));
    expect(exchange.originHeaders?.tracestate).toBeUndefined();
  });

  test('a hook that throws costs its own value, not the beacon', async () => {
    const fail = () => {
      throw new Error('bug in the worker');
    };
    const edge = edgeFor({}, tracerOnly({ route: fail, attributes: fail }));
    const exchange = await edge.handle({ url: `https://${SITE}/product/1` });
    await edge.settled();
    expect(exchange.errors).toEqual([]);
    expect(beaconsSent(edge)[0]?.spans[0]).toMatchObject({
      name: 'GET',
      attrs: { 'url.path': '/product/1' },
    });
  });

  test('traceparent() gives the worker’s own sub-requests a parent in the edge trace', async () => {
    let header: string | undefined;
    const edge = edgeFor({}, async () => {
      const tracer = await tracerOnly()();
      return {
        ...tracer,
        onOriginRequest(request: EW.IngressOriginRequest) {
          tracer.onOriginRequest(request);
          header = tracer.traceparent(request);
        },
      };
    });
    await edge.handle({ url: `https://${SITE}/`, headers: { traceparent: `00-${TRACE}-${PARENT}-01` } });
    await edge.settled();
    expect(header).toBe(`00-${TRACE}-${beaconsSent(edge)[0]?.spans[0]?.id}-01`);
  });

  test('a cache hit has no forward span', async () => {
    const edge = edgeFor();
    await edge.handle({ url: `https://${SITE}/product/9`, cached: true, times: handlerTimes(T) });
    await edge.settled();

    const [beacon] = beaconsSent(edge);
    expect(beacon?.spans).toHaveLength(1);
    expect(beacon?.spans[0]).toMatchObject({ dur: 42, attrs: { 'akamai.cache.status': 'hit' } });
    expect(origin.requests).toEqual([]);
  });

  test('an origin 503 fails both spans; an unreachable origin fails the forward span', async () => {
    origin.status = 503;
    const edge = edgeFor();
    await edge.handle({ url: `https://${SITE}/`, times: handlerTimes(T) });
    await edge.settled();
    const [root, forward] = beaconsSent(edge)[0]?.spans ?? [];
    expect(root).toMatchObject({
      status: 'error',
      attrs: { 'http.response.status_code': 503, 'error.type': '503' },
    });
    expect(forward).toMatchObject({
      status: 'error',
      attrs: { 'http.response.status_code': 503, 'error.type': '503' },
    });

    const unreachable = new EdgeServer(loadExample, {
      ...exampleProperty(origin.url, relay.url),
      hostnames: { [SITE]: 'http://127.0.0.1:1', [BEACONS]: relay.url },
    });
    const exchange = await unreachable.handle({ url: `https://${SITE}/`, times: handlerTimes(T) });
    await unreachable.settled();
    expect(exchange.status).toBe(502);
    const [, lost] = beaconsSent(unreachable)[0]?.spans ?? [];
    // Without onOriginResponse, the forward span lasts until the client response.
    expect(lost).toMatchObject({
      start: 3,
      dur: 39,
      status: 'error',
      attrs: { 'error.type': 'no_response' },
    });
  });

  test('sends the beacon unawaited: the client response does not wait for the relay', async () => {
    const edge = edgeFor();
    await edge.handle({ url: `https://${SITE}/` });
    // onClientResponse has returned and the response is on its way; the beacon is still in flight.
    expect(edge.subRequests.records.map((r) => r.outcome)).toEqual(['pending']);
    await edge.settled();
    expect(edge.subRequests.records.map((r) => r.outcome)).toEqual([202]);
  });

  test('leaves out an edge IP that is not an address, rather than have the relay refuse the beacon', async () => {
    const edge = edgeFor({ PMUSER_EDGE_IP: '{{builtin.AK_GHOST_SERVICE_IP}}' });
    await edge.handle({ url: `https://${SITE}/` });
    await edge.settled();
    expect(beaconsSent(edge)[0]?.edge).toEqual({ requestId: '8f2d61a3' });
  });

  test('never throws into the worker: an undeclared state variable or a full variable budget only stops tracing', async () => {
    const undeclared = new EdgeServer(loadExample, {
      hostnames: { [SITE]: origin.url, [BEACONS]: relay.url },
      variables: {},
    });
    const a = await undeclared.handle({ url: `https://${SITE}/` });
    // Within 1024 characters, but no room left for the trace state.
    const full = edgeFor({ PMUSER_CART: 'x'.repeat(1024 - 11 - 8 - 20) });
    const b = await full.handle({ url: `https://${SITE}/` });
    await Promise.all([undeclared.settled(), full.settled()]);

    for (const [edge, exchange] of [
      [undeclared, a],
      [full, b],
    ] as const) {
      expect(exchange.errors).toEqual([]);
      expect(exchange.status).toBe(200);
      expect(beaconsSent(edge)).toEqual([]);
    }
  });

  test('a beacon over the sub-request limit or refused by the relay never reaches the worker', async () => {
    const { httpRequest } = await import('http-request');
    const greedy = async (): Promise<WorkerModule> => {
      const tracer = await tracerOnly()();
      return {
        ...tracer,
        onClientResponse(request: EW.EgressClientRequest, response: EW.EgressClientResponse) {
          for (let i = 0; i < 4; i++) httpRequest(`https://${BEACONS}/v1/other`).catch(() => {});
          tracer.onClientResponse(request, response);
        },
      };
    };
    const overLimit = edgeFor({}, greedy);
    const exchange = await overLimit.handle({ url: `https://${SITE}/` });
    await overLimit.settled();
    expect(exchange.errors).toEqual([]);
    expect(overLimit.subRequests.records.map((r) => r.outcome)).toEqual([202, 202, 202, 202, 'limit']);

    relay.status = 503;
    const refused = edgeFor();
    const answered = await refused.handle({ url: `https://${SITE}/` });
    await refused.settled();
    expect(answered.errors).toEqual([]);
    expect(refused.subRequests.records.map((r) => r.outcome)).toEqual([503]);
  });
});
