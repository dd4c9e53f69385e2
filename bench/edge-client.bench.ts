/**
 * Cost of the edge client (edge/src/index.js) against its EdgeWorkers budget: CPU per beacon built and
 * sent (onClientResponse), CPU of all four handlers of one request, the same request as the first call
 * in a fresh process (EdgeWorkers runs handlers in fresh instances, before V8 has optimised anything),
 * and the minified size. The sub-request is a stub that resolves at once: what is measured is the client.
 *
 *   node bench/edge-client.bench.ts            prints a table and one JSON line
 *
 * Bounded: at most 20,000 warm iterations or 2 s per measure, and 15 fresh processes of one request each.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { gzipSync } from 'node:zlib';
import { crypto as platformCrypto } from '../edge/test/shim/crypto.ts';
import { EdgeRequest, EdgeResponse, Variables } from '../edge/test/shim/edge-request.ts';
import { perCall } from './per-call.ts';

const CLIENT = new URL('../edge/src/index.js', import.meta.url);
const SIGNER = new URL('../edge/src/sign.js', import.meta.url);
const HANDLER_CPU_BUDGET_US = 20_000;
const SIZE_BUDGET = 4096;

// The client imports EdgeWorkers' built-in modules: `http-request` is a stub that keeps the last body and
// answers 202 at once; `crypto` and `log` are the test shim's (logging off, as in production).
const BUILT_INS: Record<string, string> = {
  'http-request': `data:text/javascript,${encodeURIComponent(
    'export const httpRequest = async (url, o) => { globalThis.lastBeacon = o.body; return { status: 202, ok: true }; };',
  )}`,
  crypto: new URL('../edge/test/shim/crypto.ts', import.meta.url).href,
  log: new URL('../edge/test/shim/log.ts', import.meta.url).href,
};
registerHooks({
  resolve(specifier, context, next) {
    const fromEdge = context.parentURL === CLIENT.href || context.parentURL === SIGNER.href;
    const url = fromEdge ? BUILT_INS[specifier] : undefined;
    return url ? { url, shortCircuit: true } : next(specifier, context);
  },
});
const { createTracer } = (await import(CLIENT.href)) as typeof import('../edge/src/index.js');

const tracer = createTracer({
  url: 'https://edge-relay.example.com/v1/beacons',
  worker: { id: '42817', version: '1.0.0' },
  service: 'shop-edge',
  route: () => '/product/:id',
  // The incoming traceparent below is continued, as before trusting it became a choice.
  continueTraces: true,
});

/** The four handlers' views of one new client request (a continued trace), and a response. */
function newExchange() {
  const request = new EdgeRequest(
    {
      url: 'https://www.example.com/product/1234?ref=home',
      headers: {
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        tracestate: 'congo=t61rcWkgMzE',
      },
    },
    new Variables({
      PMUSER_EDGE_TRACE: '',
      PMUSER_EDGE_IP: '203.0.113.7',
      PMUSER_EDGE_REQUEST_ID: '8f2d61a3',
    }),
  );
  return {
    clientRequest: request.view('onClientRequest'),
    originRequest: request.view('onOriginRequest'),
    originResponse: request.view('onOriginResponse'),
    clientResponse: request.view('onClientResponse'),
    response: new EdgeResponse(200).view(),
  };
}

function traceRequest(x: ReturnType<typeof newExchange>): void {
  tracer.onClientRequest(x.clientRequest);
  tracer.onOriginRequest(x.originRequest);
  tracer.onOriginResponse(x.originResponse, x.response);
  tracer.onClientResponse(x.clientResponse, x.response);
}

if (process.env.EDGE_CLIENT_BENCH_COLD) {
  // Child mode: the tracer's first request in a fresh process. The shim's objects are made, and the
  // engine's builtins used once (an EdgeWorkers isolate has run its platform code before the worker's),
  // so that what is timed is the client's own code running for the first time. Wall time: one call is
  // below the resolution of CPU accounting.
  newExchange();
  const exchange = newExchange();
  JSON.stringify({ a: [{ b: 'c', d: 1.5 }], e: { f: true } });
  // The platform's random source is native on Akamai, ready before any worker code runs; here it is the
  // shim over Node's Web Crypto, which initialises on its first call.
  platformCrypto.getRandomValues(new Uint8Array(1));
  /^[a-z]+=[ -~]*$/i.test(Number.parseInt('zz', 36).toString(36).padStart(4, '0'));
  (async () => 1)().then(undefined, () => {});
  const t0 = performance.now();
  tracer.onClientRequest(exchange.clientRequest);
  tracer.onOriginRequest(exchange.originRequest);
  tracer.onOriginResponse(exchange.originResponse, exchange.response);
  const t1 = performance.now();
  tracer.onClientResponse(exchange.clientResponse, exchange.response);
  const t2 = performance.now();
  process.stdout.write(JSON.stringify({ request: (t2 - t0) * 1000, beacon: (t2 - t1) * 1000 }));
  process.exit(0);
}

const warm = newExchange();
traceRequest(warm);
const beaconUs = perCall(() => tracer.onClientResponse(warm.clientResponse, warm.response)).cpu;
const requestUs = perCall(() => traceRequest(warm)).cpu;

// A signed beacon's token (edge/src/sign.js): HMAC key import and signature through the shim's
// crypto.subtle, over Node's Web Crypto, so this is Node's HMAC plus the signer's own code.
const { beaconToken } = (await import(SIGNER.href)) as typeof import('../edge/src/sign.js');
const keyed = new EdgeRequest(
  { url: 'https://www.example.com/' },
  new Variables({
    PMUSER_EDGE_RELAY_KEY: 'pNQ0a7kXv2m9ZcW4sR1tYq8uE3oL6hJ5gF0dB2nM7xA=',
    PMUSER_EDGE_RELAY_KEY_ID: 'edge-2026-12',
  }),
).view('onClientResponse');
for (let i = 0; i < 2000; i++) await beaconToken(keyed);
const signStart = process.cpuUsage();
const SIGNATURES = 5000;
for (let i = 0; i < SIGNATURES; i++) await beaconToken(keyed);
const signUsed = process.cpuUsage(signStart);
const signUs = (signUsed.user + signUsed.system) / SIGNATURES;

const cold: { request: number; beacon: number }[] = [];
for (let i = 0; i < 15; i++) {
  const out = execFileSync(process.execPath, [new URL(import.meta.url).pathname], {
    env: { ...process.env, EDGE_CLIENT_BENCH_COLD: '1' },
  });
  cold.push(JSON.parse(out.toString()));
}
const median = (values: number[]) =>
  values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const coldRequestUs = median(cold.map((c) => c.request));
const coldBeaconUs = median(cold.map((c) => c.beacon));

// Loaded here, not at the top: the fresh processes above must not pay for it.
const { minify } = await import('terser');
const minified =
  (await minify(readFileSync(CLIENT, 'utf8'), { module: true, compress: { passes: 2 } })).code ?? '';
const signerMinified =
  (await minify(readFileSync(SIGNER, 'utf8'), { module: true, compress: { passes: 2 } })).code ?? '';
const beacon = (globalThis as { lastBeacon?: string }).lastBeacon ?? '';

const results = {
  beacon_build_send_cpu_us: Number(beaconUs.toFixed(2)),
  request_all_handlers_cpu_us: Number(requestUs.toFixed(2)),
  beacon_first_call_us_median: Number(coldBeaconUs.toFixed(0)),
  request_first_call_us_median: Number(coldRequestUs.toFixed(0)),
  share_of_20ms_handler_budget_warm: Number((beaconUs / HANDLER_CPU_BUDGET_US).toFixed(5)),
  share_of_20ms_handler_budget_first_call: Number((coldBeaconUs / HANDLER_CPU_BUDGET_US).toFixed(4)),
  beacon_bytes: Buffer.byteLength(beacon),
  minified_bytes: Buffer.byteLength(minified),
  minified_gzip_bytes: gzipSync(minified).length,
  share_of_4kb_size_budget: Number((Buffer.byteLength(minified) / SIZE_BUDGET).toFixed(3)),
  sign_token_cpu_us: Number(signUs.toFixed(2)),
  signer_minified_bytes: Buffer.byteLength(signerMinified),
};
console.table(results);
console.log(JSON.stringify({ bench: 'edge-client', ...results }));
