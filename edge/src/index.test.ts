import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { Beacon } from '../../src/model/beacon.ts';
import { validateBeacon } from '../../src/receive/beacon/validate-beacon.ts';
import {
  BEACONS,
  beaconsSent,
  exampleProperty,
  handlerTimes,
  loadExample,
  SITE,
  TRUSTED,
  tracerOnly,
  useStubs,
} from '../test/edge-fixture.ts';
import { createResponse } from '../test/shim/create-response.ts';
import { seededBytes, useRandom } from '../test/shim/crypto.ts';
import { EdgeServer, type PlatformOptions, type WorkerModule } from '../test/shim/edge-server.ts';

vi.mock('http-request', () => import('../test/shim/http-request.ts'));
vi.mock('crypto', () => import('../test/shim/crypto.ts'));
vi.mock('log', () => import('../test/shim/log.ts'));

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const T = 1_764_070_000_123;
const HEX16 = /^[0-9a-f]{16}$/;

const stubs = useStubs();

beforeEach(() => {
  stubs.origin.status = 200;
  stubs.relay.status = 202;
  stubs.origin.requests.length = 0;
  stubs.relay.requests.length = 0;
});
afterEach(() => {
  useRandom(undefined);
  vi.restoreAllMocks();
});

const edgeFor = (
  variables: Record<string, string> = {},
  load: () => Promise<WorkerModule> = loadExample,
  platform: PlatformOptions = {},
) => new EdgeServer(load, exampleProperty(stubs.origin.url, stubs.relay.url, variables), platform);

/** The one beacon the edge server sent, checked against the format the relay enforces. */
function theBeacon(edge: EdgeServer): Beacon {
  const [beacon, ...more] = beaconsSent(edge);
  expect(more).toEqual([]);
  if (!beacon) throw new Error('no beacon');
  expect(validateBeacon(beacon)).toBeUndefined();
  return beacon;
}

describe('the example worker under the EdgeWorkers shim', () => {
  test('starts a trace, propagates it to the origin and posts one beacon with the measured spans', async () => {
    const edge = edgeFor();
    const exchange = await edge.handle({
      url: `https://${SITE}/product/1234?beta=1`,
      times: handlerTimes(T),
    });
    await edge.settled();

    expect(exchange.errors).toEqual([]);
    const beacon = theBeacon(edge);
    const [root, forward] = beacon.spans;
    expect(beacon).toMatchObject({
      v: 1,
      // Sampled, and W3C level 2's random-trace-id: the client made the trace id.
      flags: 3,
      ts: T,
      th: '0000000000000',
      worker: { id: 'dev', version: '0.0.0-dev' },
      edge: { ip: '203.0.113.7', requestId: '8f2d61a3' },
      service: 'shop-edge',
    });
    expect(beacon.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(beacon.traceState).toBeUndefined();
    expect(root).toEqual({
      id: expect.stringMatching(HEX16),
      name: 'GET /product/:id',
      kind: 'server',
      start: 0,
      dur: 42,
      parentRemote: false,
      droppedAttrs: 0,
      attrs: {
        'http.request.method': 'GET',
        'url.scheme': 'https',
        // The route template, never the path itself.
        'url.path': '/product/:id',
        'server.address': SITE,
        'http.route': '/product/:id',
        'http.response.status_code': 200,
        'akamai.cache.status': 'miss',
        'shop.variant': 'beta',
      },
    });
    expect(forward).toEqual({
      id: expect.stringMatching(HEX16),
      parent: root?.id,
      name: 'origin GET',
      kind: 'client',
      start: 3,
      dur: 37,
      attrs: { 'http.request.method': 'GET', 'server.address': SITE, 'http.response.status_code': 200 },
    });
    // The origin joins the trace as a child of the edge's forward span, sampled.
    expect(exchange.originHeaders?.traceparent).toBe(`00-${beacon.traceId}-${forward?.id}-03`);
    expect(exchange.originHeaders?.['x-shop-variant']).toBe('beta');

    const [sent] = edge.subRequests.records;
    expect(sent).toMatchObject({ handler: 'onClientResponse', method: 'POST', outcome: 202 });
    expect(sent?.url).toBe(`https://${BEACONS}/v1/beacons`);
    expect(sent?.headers['content-type']).toBe('application/json');
    expect(sent?.headers['x-edge-relay-trace-id']).toBe(beacon.traceId);
    expect(sent?.headers.authorization).toBeUndefined();
    expect(stubs.relay.requests.map((r) => r.url)).toEqual(['/v1/beacons']);
  });

  test('continues a trusted caller’s trace with its tracestate, and marks the forward sampled', async () => {
    const edge = edgeFor();
    const exchange = await edge.handle({
      url: `https://${SITE}/cart`,
      headers: { ...TRUSTED, traceparent: `00-${TRACE}-${PARENT}-00`, tracestate: 'congo=t61rcWkgMzE' },
      times: handlerTimes(T),
    });
    await edge.settled();

    const beacon = theBeacon(edge);
    // The caller's trace id was not said to be random: no flag 2.
    expect(beacon).toMatchObject({ traceId: TRACE, traceState: 'congo=t61rcWkgMzE', flags: 1 });
    expect(beacon.spans[0]).toMatchObject({ parent: PARENT, parentRemote: true, name: 'GET' });
    expect(exchange.originHeaders?.traceparent).toBe(`00-${TRACE}-${beacon.spans[1]?.id}-01`);
    expect(exchange.originHeaders?.tracestate).toBe('congo=t61rcWkgMzE');
  });

  test('a cache hit has no forward span', async () => {
    const edge = edgeFor();
    await edge.handle({ url: `https://${SITE}/product/9`, cached: true, times: handlerTimes(T) });
    await edge.settled();

    const beacon = theBeacon(edge);
    expect(beacon.spans).toHaveLength(1);
    expect(beacon.spans[0]).toMatchObject({ dur: 42, attrs: { 'akamai.cache.status': 'hit' } });
    expect(stubs.origin.requests).toEqual([]);
  });

  test('an origin 503 fails both spans; an unreachable origin fails the forward span', async () => {
    stubs.origin.status = 503;
    const edge = edgeFor();
    await edge.handle({ url: `https://${SITE}/`, times: handlerTimes(T) });
    await edge.settled();
    const [root, forward] = theBeacon(edge).spans;
    expect(root).toMatchObject({
      status: 'error',
      attrs: { 'http.response.status_code': 503, 'error.type': '503' },
    });
    expect(forward).toMatchObject({
      status: 'error',
      attrs: { 'http.response.status_code': 503, 'error.type': '503' },
    });

    const unreachable = new EdgeServer(loadExample, {
      ...exampleProperty(stubs.origin.url, stubs.relay.url),
      hostnames: { [SITE]: 'http://127.0.0.1:1', [BEACONS]: stubs.relay.url },
    });
    const exchange = await unreachable.handle({ url: `https://${SITE}/`, times: handlerTimes(T) });
    await unreachable.settled();
    expect(exchange.status).toBe(502);
    const [, lost] = theBeacon(unreachable).spans;
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
    expect(theBeacon(edge).edge).toEqual({ requestId: '8f2d61a3' });
  });

  test('never throws into the worker: an undeclared state variable or a full variable budget only stops tracing', async () => {
    const undeclared = new EdgeServer(loadExample, {
      hostnames: { [SITE]: stubs.origin.url, [BEACONS]: stubs.relay.url },
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

  test('a beacon over the sub-request limit or refused by the relay never reaches the worker, and is logged', async () => {
    const { httpRequest } = await import('http-request');
    const greedy = tracerOnly({}, (tracer) => ({
      ...tracer,
      onClientResponse(request: EW.EgressClientRequest, response: EW.EgressClientResponse) {
        for (let i = 0; i < 4; i++) httpRequest(`https://${BEACONS}/v1/other`).catch(() => {});
        tracer.onClientResponse(request, response);
      },
    }));
    const overLimit = edgeFor({}, greedy, { logging: true });
    const exchange = await overLimit.handle({ url: `https://${SITE}/` });
    await overLimit.settled();
    expect(exchange.errors).toEqual([]);
    expect(overLimit.subRequests.records.map((r) => r.outcome)).toEqual([202, 202, 202, 202, 'limit']);
    expect(overLimit.log).toEqual([
      { level: 'warn', message: expect.stringMatching(/^edge-relay: .*sub-request limit/) },
    ]);

    stubs.relay.status = 503;
    const refused = edgeFor({}, loadExample, { logging: true });
    const answered = await refused.handle({ url: `https://${SITE}/` });
    await refused.settled();
    expect(answered.errors).toEqual([]);
    expect(refused.subRequests.records.map((r) => r.outcome)).toEqual([503]);
    expect(refused.log).toEqual([{ level: 'warn', message: 'edge-relay: relay: 503' }]);
  });
});

describe('ids (EdgeWorkers crypto)', () => {
  test('come from crypto.getRandomValues of the crypto module, never Math.random', async () => {
    vi.spyOn(Math, 'random').mockImplementation(() => {
      throw new Error('Math.random is not random enough for ids');
    });
    // A generator that counts: every id byte must have come through the crypto module.
    let next = 0;
    useRandom((bytes) => {
      for (let i = 0; i < bytes.length; i++) bytes[i] = next++ & 0xff;
    });
    const edge = edgeFor({}, tracerOnly());
    const exchange = await edge.handle({ url: `https://${SITE}/` });
    await edge.settled();

    expect(exchange.errors).toEqual([]);
    const beacon = theBeacon(edge);
    const bytes = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => (from + i).toString(16).padStart(2, '0')).join('');
    expect(beacon.traceId).toBe(bytes(0, 16));
    // The server span, then the forward span, both decided in onClientRequest.
    expect(beacon.spans.map((s) => s.id)).toEqual([bytes(16, 8), bytes(24, 8)]);
  });

  test('an all-zero draw is drawn again, as W3C refuses all-zero ids', async () => {
    let draws = 0;
    const seeded = seededBytes(7);
    useRandom((bytes) => (draws++ === 0 ? bytes.fill(0) : seeded(bytes)));
    const edge = edgeFor({}, tracerOnly());
    await edge.handle({ url: `https://${SITE}/`, cached: true });
    await edge.settled();
    expect(theBeacon(edge).traceId).not.toBe('0'.repeat(32));
    expect(draws).toBe(4);
  });
});

describe('state that survives the platform', () => {
  test('the origin span survives when what onOriginRequest saved is lost', async () => {
    const edge = edgeFor({}, loadExample, { variablesLostFrom: ['onOriginRequest'] });
    const exchange = await edge.handle({ url: `https://${SITE}/product/1`, times: handlerTimes(T) });
    await edge.settled();

    const [root, forward] = theBeacon(edge).spans;
    // Its id was decided in onClientRequest, so it is the one the origin was told.
    expect(exchange.originHeaders?.traceparent).toMatch(new RegExp(`-${forward?.id}-03$`));
    expect(forward).toMatchObject({
      parent: root?.id,
      name: 'origin GET',
      // The forward's start was lost with the variable: it starts with the request.
      start: 0,
      dur: 40,
      attrs: { 'http.response.status_code': 200 },
    });
    expect(root?.attrs?.['akamai.cache.status']).toBe('miss');
  });

  test('when neither origin handler’s state arrives, the request reads as a hit, still traced', async () => {
    const edge = edgeFor({}, loadExample, { variablesLostFrom: ['onOriginRequest', 'onOriginResponse'] });
    await edge.handle({ url: `https://${SITE}/` });
    await edge.settled();
    const beacon = theBeacon(edge);
    expect(beacon.spans).toHaveLength(1);
    expect(beacon.spans[0]?.attrs?.['akamai.cache.status']).toBe('hit');
  });
});

describe('hostile hook output', () => {
  const hostile = {
    route: () => `/${'r'.repeat(5000)}`,
    attributes: () => ({
      'ok.string': 'fine',
      'null.value': null,
      'object.value': { nested: true },
      'nan.value': Number.NaN,
      'infinite.value': Number.POSITIVE_INFINITY,
      'bigint.value': 10n,
      'function.value': () => 1,
      'long.string': 'x'.repeat(5000),
      'mixed.array': [1, 'two', null, { three: 3 }, true],
      'long.array': Array.from({ length: 100 }, (_, i) => i),
      '': 'empty key',
      ['k'.repeat(257)]: 'key too long',
      ...Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`extra.${i}`, i])),
    }),
  };

  test('still yields a beacon the relay accepts, with what it dropped counted and the rest cut to size', async () => {
    const edge = edgeFor({}, tracerOnly(hostile as never));
    const exchange = await edge.handle({ url: `https://${SITE}/` });
    await edge.settled();

    expect(exchange.errors).toEqual([]);
    const [root] = theBeacon(edge).spans;
    const attrs = root?.attrs ?? {};
    expect(Object.keys(attrs)).toHaveLength(64);
    expect(attrs['http.route']).toHaveLength(4096);
    expect(root?.name).toHaveLength(256);
    expect(attrs['ok.string']).toBe('fine');
    expect(attrs['long.string']).toHaveLength(4096);
    expect(attrs['mixed.array']).toEqual([1, 'two', true]);
    expect(attrs['long.array']).toHaveLength(64);
    // null, object, NaN, Infinity, bigint, function, the empty key, the long key: 8; then of the 70
    // extras, what does not fit in 64 keys.
    const kept = Object.keys(attrs).filter((k) => k.startsWith('extra.')).length;
    expect(root?.droppedAttrs).toBe(8 + 70 - kept);
  });

  test('a hook that throws costs its own value, not the beacon, and is logged when logging is on', async () => {
    const fail = () => {
      throw new Error('bug in the worker');
    };
    const edge = edgeFor({}, tracerOnly({ route: fail, attributes: fail, shouldTrace: fail }), {
      logging: true,
    });
    const exchange = await edge.handle({ url: `https://${SITE}/product/1` });
    await edge.settled();
    expect(exchange.errors).toEqual([]);
    expect(theBeacon(edge).spans[0]).toMatchObject({ name: 'GET', attrs: { 'url.path': '/product/1' } });
    expect(edge.log.map((l) => l.message)).toEqual([
      'edge-relay: Error: bug in the worker',
      'edge-relay: Error: bug in the worker',
      'edge-relay: Error: bug in the worker',
    ]);
  });

  test('the log module stays silent unless logging is enabled', async () => {
    const edge = edgeFor({}, tracerOnly({ route: () => JSON.parse('{') }));
    await edge.handle({ url: `https://${SITE}/` });
    await edge.settled();
    expect(edge.log).toEqual([]);
  });
});

describe('privacy', () => {
  const email = '/account/jane.doe@example.com/orders';

  test.each([
    ['a path without a route', email],
    ['a percent-encoded email', '/account/jane.doe%40example.com/orders'],
    ['a path the route hook does not know', `/profile${email}`],
  ])('%s: its email address never appears in a beacon by default', async (_what, path) => {
    const edge = edgeFor();
    await edge.handle({ url: `https://${SITE}${path}?email=jane.doe@example.com` });
    await edge.settled();
    const body = edge.subRequests.records[0]?.body ?? '';
    expect(body).not.toContain('jane.doe');
    expect(theBeacon(edge).spans[0]?.attrs?.['url.path']).toBe(path.replace(/[^/]*jane[^/]*/, 'REDACTED'));
  });

  test('redacts numbers and long tokens by default, and what the `redact` pattern says otherwise', async () => {
    const path = '/orders/12345/receipt/eyJhbGciOiJIUzI1NiJ9abc/shop';
    const standard = edgeFor({}, tracerOnly());
    await standard.handle({ url: `https://${SITE}${path}` });
    await standard.settled();
    const custom = edgeFor({}, tracerOnly({ redact: /^shop$/ }));
    await custom.handle({ url: `https://${SITE}${path}` });
    await custom.settled();
    expect(theBeacon(standard).spans[0]?.attrs?.['url.path']).toBe('/orders/REDACTED/receipt/REDACTED/shop');
    expect(theBeacon(custom).spans[0]?.attrs?.['url.path']).toBe(
      '/orders/12345/receipt/eyJhbGciOiJIUzI1NiJ9abc/REDACTED',
    );
  });

  test('by default no caller’s trace id is trusted: a new trace, without the caller’s tracestate', async () => {
    const edge = edgeFor({}, tracerOnly());
    const exchange = await edge.handle({
      url: `https://${SITE}/`,
      headers: { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'congo=t61rcWkgMzE' },
    });
    await edge.settled();

    const beacon = theBeacon(edge);
    expect(beacon.traceId).not.toBe(TRACE);
    expect(beacon.spans[0]?.parent).toBeUndefined();
    expect(exchange.originHeaders?.traceparent).toMatch(new RegExp(`^00-${beacon.traceId}-`));
    expect(exchange.originHeaders?.tracestate).toBeUndefined();
  });

  test.each([
    ['a listed hostname', [SITE], {}, true],
    ['an unlisted hostname', ['api.example.com'], {}, false],
    ['a listed header', ['x-shop-internal'], TRUSTED, true],
    ['a request without the listed header', ['x-shop-internal'], {}, false],
    ['everyone', true, {}, true],
  ] as const)(
    'continueTraces for %s (%s): continued %s',
    async (_what, continueTraces, headers, continued) => {
      const edge = edgeFor({}, tracerOnly({ continueTraces: continueTraces as boolean | string[] }));
      await edge.handle({
        url: `https://${SITE}/`,
        headers: { ...headers, traceparent: `00-${TRACE}-${PARENT}-01` },
      });
      await edge.settled();
      expect(theBeacon(edge).traceId === TRACE).toBe(continued);
    },
  );

  test('starts a new trace for an invalid traceparent and drops the tracestate that came with it', async () => {
    const edge = edgeFor();
    const exchange = await edge.handle({
      url: `https://${SITE}/`,
      headers: {
        ...TRUSTED,
        traceparent: `00-${'0'.repeat(32)}-${PARENT}-01`,
        tracestate: 'congo=t61rcWkgMzE',
      },
    });
    await edge.settled();

    const beacon = theBeacon(edge);
    expect(beacon.traceId).not.toBe('0'.repeat(32));
    expect(beacon.traceState).toBeUndefined();
    expect(beacon.spans[0]?.parent).toBeUndefined();
    expect(exchange.originHeaders?.tracestate).toBeUndefined();
  });
});

describe('responses built at the edge', () => {
  test('Property Manager’s Construct Response, marked by its rule’s variable, is reported as constructed', async () => {
    const edge = edgeFor({ PMUSER_EDGE_CONSTRUCTED: '' });
    await edge.handle({
      url: `https://${SITE}/blocked`,
      constructResponse: { status: 403, variables: { PMUSER_EDGE_CONSTRUCTED: '1' } },
    });
    await edge.settled();
    const beacon = theBeacon(edge);
    expect(beacon.spans).toHaveLength(1);
    expect(beacon.spans[0]?.attrs).toMatchObject({
      'akamai.cache.status': 'constructed',
      'http.response.status_code': 403,
    });
  });

  test('respondWith, marked with the same variable, is reported as constructed', async () => {
    const worker = tracerOnly({}, (tracer) => ({
      ...tracer,
      onClientRequest(request: EW.IngressClientRequest) {
        tracer.onClientRequest(request);
        request.setVariable('PMUSER_EDGE_CONSTRUCTED', '1');
        request.respondWith(302, { location: ['/fr/'] }, '');
      },
    }));
    const edge = edgeFor({ PMUSER_EDGE_CONSTRUCTED: '' }, worker);
    const exchange = await edge.handle({ url: `https://${SITE}/` });
    await edge.settled();
    expect(exchange.status).toBe(302);
    expect(stubs.origin.requests).toEqual([]);
    expect(theBeacon(edge).spans[0]?.attrs?.['akamai.cache.status']).toBe('constructed');
  });

  /** A worker whose responseProvider calls an API (a sub-request) and builds the answer. */
  const provider = tracerOnly({}, (tracer) => ({
    ...tracer,
    async responseProvider(request: EW.ResponseProviderRequest) {
      const { httpRequest } = await import('http-request');
      const traceparent = tracer.traceparent(request) ?? '';
      const api = await httpRequest(`https://${SITE}/api`, { headers: { traceparent } });
      return createResponse(api.status, tracer.provided(request, { 'content-type': ['text/html'] }), 'hi');
    },
  }));

  test('a responseProvider’s response is reported as constructed, with the provider as the forward span', async () => {
    const edge = edgeFor({}, provider);
    const exchange = await edge.handle({ url: `https://${SITE}/page`, times: handlerTimes(T) });
    await edge.settled();

    expect(exchange.errors).toEqual([]);
    // Nothing of the tracer's reaches the client.
    expect(exchange.response.headers.get('x-edge-relay-provided')).toBeNull();
    const [root, forward] = theBeacon(edge).spans;
    expect(root?.attrs).toMatchObject({
      'akamai.cache.status': 'constructed',
      'http.response.status_code': 200,
    });
    expect(forward).toMatchObject({
      parent: root?.id,
      name: 'responseProvider',
      kind: 'client',
      start: 0,
      dur: 42,
      attrs: { 'http.response.status_code': 200 },
    });
    // The provider's sub-request is a child of the provider's span.
    const api = edge.subRequests.records.find((r) => r.handler === 'responseProvider');
    expect(api?.headers.traceparent).toMatch(new RegExp(`-${forward?.id}-03$`));
    expect(stubs.origin.requests.map((r) => r.url)).toEqual(['/api']);
  });

  test('a cached copy of a provided response is a hit', async () => {
    // What the cache keeps is what the provider made for another request, the tracer's header included.
    const edge = edgeFor({}, provider);
    const cached = await edge.handle({
      url: `https://${SITE}/page`,
      cached: true,
      cachedHeaders: { 'x-edge-relay-provided': `00-${TRACE}-${PARENT}-03` },
    });
    await edge.settled();
    expect(cached.response.headers.get('x-edge-relay-provided')).toBeNull();
    expect(theBeacon(edge).spans[0]?.attrs?.['akamai.cache.status']).toBe('hit');
  });
});

describe('sub-requests of the worker', () => {
  test('each gets its own client span, a child of the server span, and its own traceparent', async () => {
    const { httpRequest } = await import('http-request');
    const headers: (string | undefined)[] = [];
    const worker = tracerOnly({ continueTraces: true }, (tracer) => ({
      ...tracer,
      async onClientRequest(request: EW.IngressClientRequest) {
        tracer.onClientRequest(request);
        for (const path of ['/a', '/b']) {
          const traceparent = tracer.traceparent(request);
          headers.push(traceparent);
          await httpRequest(`https://${SITE}${path}`, { headers: { traceparent: traceparent ?? '' } });
        }
      },
      onOriginResponse(request: EW.EgressOriginRequest, response: EW.EgressOriginResponse) {
        tracer.onOriginResponse(request, response);
        headers.push(tracer.traceparent(request));
      },
      onClientResponse(request: EW.EgressClientRequest, response: EW.EgressClientResponse) {
        tracer.onClientResponse(request, response);
        // After the beacon: a span of its own could not be reported.
        headers.push(tracer.traceparent(request));
      },
    }));
    const edge = edgeFor({}, worker);
    await edge.handle({
      url: `https://${SITE}/`,
      headers: { traceparent: `00-${TRACE}-${PARENT}-01` },
      times: handlerTimes(T),
    });
    await edge.settled();

    const [root, ...rest] = theBeacon(edge).spans;
    const subs = rest.filter((s) => s.name === 'sub-request');
    expect(subs.map((s) => [s.kind, s.parent, s.start])).toEqual([
      ['client', root?.id, 0],
      ['client', root?.id, 0],
      ['client', root?.id, 40],
    ]);
    expect(headers).toEqual([...subs.map((s) => `00-${TRACE}-${s.id}-01`), `00-${TRACE}-${root?.id}-01`]);
    expect(new Set(subs.map((s) => s.id)).size).toBe(3);
    expect(stubs.origin.requests.map((r) => [r.url, r.headers.traceparent])).toEqual([
      ['/a', headers[0]],
      ['/b', headers[1]],
      ['/', expect.stringMatching(new RegExp(`^00-${TRACE}-`))],
    ]);
  });
});

describe('tracestate (W3C)', () => {
  const forwarded = async (tracestate: string, drop: boolean) => {
    const edge = edgeFor({}, tracerOnly({ continueTraces: true, dropInvalidTracestate: drop }));
    const exchange = await edge.handle({
      url: `https://${SITE}/`,
      headers: { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate },
    });
    await edge.settled();
    return { beacon: theBeacon(edge), header: exchange.originHeaders?.tracestate };
  };

  test('takes values of 1 to 256 characters', async () => {
    const { beacon, header } = await forwarded(`k=${'v'.repeat(256)}`, true);
    expect(beacon.traceState).toBe(`k=${'v'.repeat(256)}`);
    expect(header).toBe(`k=${'v'.repeat(256)}`);
  });

  test.each([
    ['an empty value', 'congo=,rojo=1'],
    ['a value of 257 characters', `k=${'v'.repeat(257)}`],
    ['an equals sign in a value', 'congo=a=b'],
    ['an uppercase key', 'Congo=1'],
    ['33 members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')],
  ])('refuses %s: not on the spans, and with dropInvalidTracestate not forwarded', async (_what, value) => {
    const dropped = await forwarded(value, true);
    expect(dropped.beacon.traceState).toBeUndefined();
    expect(dropped.header).toBeUndefined();
    // Without the option, the forward request carries it as the caller sent it.
    expect((await forwarded(value, false)).header).toBe(value);
  });
});

describe('sampling at the edge', () => {
  test('shouldTrace false sends no beacon and tells the origin not to sample', async () => {
    const edge = edgeFor({}, tracerOnly({ shouldTrace: (request) => !request.path.startsWith('/static/') }));
    const exchange = await edge.handle({ url: `https://${SITE}/static/app.js` });
    await edge.settled();
    expect(beaconsSent(edge)).toEqual([]);
    expect(exchange.originHeaders?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-02$/);
  });

  test('with honorSampled, the caller’s flag decides: unsampled, no beacon and the caller’s traceparent goes on', async () => {
    const options = { honorSampled: true, continueTraces: true, sampleRate: 0 };
    const unsampled = edgeFor({}, tracerOnly(options));
    const a = await unsampled.handle({
      url: `https://${SITE}/`,
      headers: { traceparent: `00-${TRACE}-${PARENT}-00` },
    });
    await unsampled.settled();
    const sampled = edgeFor({}, tracerOnly(options));
    await sampled.handle({ url: `https://${SITE}/`, headers: { traceparent: `00-${TRACE}-${PARENT}-01` } });
    await sampled.settled();

    expect(beaconsSent(unsampled)).toEqual([]);
    expect(a.originHeaders?.traceparent).toBe(`00-${TRACE}-${PARENT}-00`);
    // Sent despite sampleRate 0, and without a threshold of the edge's: the caller's decision stands.
    expect(theBeacon(sampled).th).toBeUndefined();
  });

  test('keeps a trace on its randomness as the relay does: an explicit ot=rv, else the trace id', async () => {
    const low = '00000000000001';
    const high = 'ffffffffffffff';
    const traced = async (traceId: string, tracestate?: string) => {
      const edge = edgeFor({}, tracerOnly({ sampleRate: 0.5, continueTraces: true }));
      const headers: Record<string, string> = { traceparent: `00-${traceId}-${PARENT}-01` };
      if (tracestate) headers.tracestate = tracestate;
      await edge.handle({ url: `https://${SITE}/`, headers });
      await edge.settled();
      return beaconsSent(edge).length === 1;
    };
    expect(await traced(`${'a'.repeat(18)}${high}`)).toBe(true);
    expect(await traced(`${'a'.repeat(18)}${low}`)).toBe(false);
    expect(await traced(`${'a'.repeat(18)}${low}`, `ot=th:8;rv:${high},congo=1`)).toBe(true);
    expect(await traced(`${'a'.repeat(18)}${high}`, `ot=rv:${low}`)).toBe(false);
  });
});

describe('provisioning from property variables', () => {
  test('the relay URL and token come from PMUSER_ variables when the property sets them', async () => {
    const worker = tracerOnly({ url: 'https://nowhere.example.com/v1/beacons', token: 'baked-in' });
    const edge = edgeFor(
      {
        PMUSER_EDGE_RELAY_URL: `https://${BEACONS}/v1/beacons`,
        PMUSER_EDGE_RELAY_TOKEN: 'from-the-property',
      },
      worker,
    );
    await edge.handle({ url: `https://${SITE}/` });
    await edge.settled();
    const [sent] = edge.subRequests.records;
    expect(sent).toMatchObject({ url: `https://${BEACONS}/v1/beacons`, outcome: 202 });
    expect(sent?.headers.authorization).toBe('Bearer from-the-property');
  });

  test('without them, the built-in URL and token', async () => {
    const edge = edgeFor({}, tracerOnly({ token: 'baked-in' }));
    await edge.handle({ url: `https://${SITE}/` });
    await edge.settled();
    expect(edge.subRequests.records[0]?.headers.authorization).toBe('Bearer baked-in');
  });

  test('variable names can be changed', async () => {
    const worker = tracerOnly({ variables: { TRACE: 'PMUSER_T', IP: 'PMUSER_MACHINE' } });
    const edge = new EdgeServer(worker, {
      hostnames: { [SITE]: stubs.origin.url, [BEACONS]: stubs.relay.url },
      variables: { PMUSER_T: '', PMUSER_MACHINE: '198.51.100.9' },
    });
    await edge.handle({ url: `https://${SITE}/` });
    await edge.settled();
    expect(theBeacon(edge).edge).toEqual({ ip: '198.51.100.9' });
  });
});
