import { afterEach, describe, expect, test, vi } from 'vitest';
import { beaconToSpans } from '../../src/enrich/beacon-to-spans.ts';
import { EDGEWORKER_VERSION, edgeResources } from '../../src/enrich/edge-resource.ts';
import type { Beacon } from '../../src/model/beacon.ts';
import { validateBeacon } from '../../src/receive/beacon/validate-beacon.ts';
import { adjustedCount, otValue, parseThresholdHex } from '../../src/sample/probability.ts';
import { createTracer, type TracerOptions } from '../src/index.js';
import { BEACONS, SITE } from './edge-fixture.ts';
import { seededBytes, useRandom } from './shim/crypto.ts';
import { EdgeRequest, EdgeResponse, Variables } from './shim/edge-request.ts';
import { SubRequests, useSubRequests } from './shim/http-request.ts';

vi.mock('http-request', () => import('./shim/http-request.ts'));
vi.mock('crypto', () => import('./shim/crypto.ts'));
vi.mock('log', () => import('./shim/log.ts'));

// Statistical tests, made reproducible: the trace ids (whose randomness the decisions use) come from a
// seeded generator. With N requests at probability p, the number sent is Binomial(N, p); each bound
// below is 4 standard deviations, which a fair sampler exceeds with probability 6e-5 for a random seed.
const SEED = 20_261_117;
const N = 10_000;
const bound = (n: number, p: number) => 4 * Math.sqrt(n * p * (1 - p));

afterEach(() => {
  useRandom(undefined);
  useSubRequests(undefined);
});

/**
 * Runs `n` requests through a tracer's onClientRequest and onClientResponse, as cache hits. The
 * sub-requests do not leave the process (the beacon hostname is not served through the property):
 * what is counted is what the tracer sends.
 */
function run(options: Partial<TracerOptions>, n: number, path = () => '/'): Beacon[] {
  const tracer = createTracer({
    url: `https://${BEACONS}/v1/beacons`,
    worker: { id: '1', version: '1' },
    ...options,
  });
  const subRequests = new SubRequests({});
  useSubRequests(subRequests);
  for (let i = 0; i < n; i++) {
    const request = new EdgeRequest(
      { url: `https://${SITE}${path()}` },
      new Variables({ PMUSER_EDGE_TRACE: '' }),
    );
    tracer.onClientRequest(request.view('onClientRequest'));
    subRequests.enter('onClientResponse', SITE);
    tracer.onClientResponse(request.view('onClientResponse'), new EdgeResponse(200).view());
  }
  return subRequests.records.map((r) => JSON.parse(r.body) as Beacon);
}

describe('sampleRate (seeded)', () => {
  test.each([0.1, 0.5])('%s sends about that share of beacons', (p) => {
    useRandom(seededBytes(SEED));
    const beacons = run({ sampleRate: p }, N);
    expect(Math.abs(beacons.length - N * p)).toBeLessThan(bound(N, p));
  });

  test('0 sends none, 1 every one', () => {
    useRandom(seededBytes(SEED));
    expect(run({ sampleRate: 0 }, 1000)).toHaveLength(0);
    expect(run({ sampleRate: 1 }, 1000)).toHaveLength(1000);
  });

  test('shouldTrace comes first: what it refuses is never sampled', () => {
    useRandom(seededBytes(SEED));
    let i = 0;
    const beacons = run(
      { sampleRate: 0.5, shouldTrace: (request) => !request.path.startsWith('/static/') },
      N,
      () => (i++ % 4 === 0 ? '/page' : '/static/app.js'),
    );
    expect(beacons.every((b) => b.spans[0]?.attrs?.['url.path'] === '/page')).toBe(true);
    expect(Math.abs(beacons.length - (N / 4) * 0.5)).toBeLessThan(bound(N / 4, 0.5));
  });
});

describe('counts re-weighted by 1/p after the relay has converted the beacons', () => {
  test('estimate the requests per worker version, whatever rate each version samples at', () => {
    useRandom(seededBytes(SEED));
    // Two versions of a worker during a rollout, sampling at different rates.
    const rates: Record<string, number> = { '1.0.0': 0.1, '1.1.0': 0.5 };
    const requests: Record<string, number> = { '1.0.0': 9_000, '1.1.0': 3_000 };
    const beacons = Object.entries(rates).flatMap(([version, p]) =>
      run({ sampleRate: p, worker: { id: '42817', version } }, requests[version] ?? 0),
    );

    const resourceOf = edgeResources({ pops: [], default_service_name: 'edge', pop_cache_size: 16 });
    const estimate: Record<string, number> = {};
    for (const beacon of beacons) {
      expect(validateBeacon(beacon)).toBeUndefined();
      // The server span stands for the request: its tracestate carries the edge's threshold.
      const [server] = beaconToSpans(beacon, resourceOf(beacon, '203.0.113.7'));
      if (!server) throw new Error('no span');
      const value = server.resource.attributes.find((a) => a.key === EDGEWORKER_VERSION)?.value;
      const version = value?.type === 'string' ? value.value : '';
      const threshold = parseThresholdHex(otValue(server.span.traceState, 'th')) ?? 0n;
      estimate[version] = (estimate[version] ?? 0) + adjustedCount(threshold);
    }
    for (const [version, p] of Object.entries(rates)) {
      const n = requests[version] ?? 0;
      // The estimate is the kept count times 1/p: its bound is the count's, times 1/p.
      expect(Math.abs((estimate[version] ?? 0) - n)).toBeLessThan(bound(n, p) / p);
    }
  });
});
