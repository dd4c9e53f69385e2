import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';
import {
  decided,
  outOfOrderBeacons,
  postAll,
  type TestTrace,
  testTrace,
  toSink,
  traceIdWith,
} from './tail-sampling-traffic.ts';

// config/examples/tail-sampling.yaml holds a Collector tail_sampling block pasted as-is; each trace
// below exercises one row of the policy table in docs/sampling.md.

const example = parse(
  readFileSync(new URL('../../config/examples/tail-sampling.yaml', import.meta.url), 'utf8'),
);
const P = 1n << 56n;
const LOW = 1n; // below every probability's threshold
const MID = (P * 80n) / 100n; // kept at 25%, not at 5%
const HIGH = P - 1n; // kept at any probability

let serial = 0;
const make = (
  randomness: bigint,
  options: Parameters<typeof testTrace>[1] = {},
  extra: Partial<TestTrace> = {},
) => ({
  ...testTrace(traceIdWith(serial++, randomness), options),
  ...extra,
});

const cases: [string, TestTrace, boolean][] = [
  ['a health check is dropped', make(HIGH, { path: '/health' }), false],
  ['a failing health check is kept (errors)', make(LOW, { path: '/health', error: true }), true],
  ['a plain trace of low randomness is dropped', make(LOW), false],
  ['a plain trace of high randomness is kept (baseline 5%)', make(HIGH), true],
  ['a slow trace is kept', make(LOW, { durMs: 2500 }), true],
  ['an HTTP 503 is kept (server-errors)', make(LOW, { attrs: { 'http.response.status_code': 503 } }), true],
  ['a forced trace is kept', make(LOW, { attrs: { 'app.force_sample': true } }), true],
  ['a canary worker version is kept', make(LOW, {}, { version: '2.0.1' }), true],
  ['a vendor-flagged tracestate is kept', make(LOW, {}, { traceState: 'shop=debug' }), true],
  ['checkout above the 25% threshold is kept', make(MID, { path: '/checkout' }), true],
  ['checkout below it is dropped', make(LOW, { path: '/checkout' }), false],
  ['search within its rate is kept', make(LOW, { path: '/search' }), true],
  ['a large trace is kept', make(LOW, { children: 120 }), true],
  ['a premium customer is kept (composite)', make(LOW, { attrs: { 'app.customer.tier': 'premium' } }), true],
  ['a head-sampled beta worker is kept (composite)', make(LOW, {}, { version: '1.5.0' }), true],
  ['an unsampled beta worker is dropped', make(LOW, {}, { version: '1.5.0', flags: 0 }), false],
  ['the DEBUG PoP is kept', make(LOW, {}, { pop: 'DEBUG' }), true],
];

describe('the Collector example config, pasted as-is', () => {
  let sink: OtlpSink;
  let relay: RelayProcess;
  beforeAll(async () => {
    sink = await OtlpSink.start();
    relay = await RelayProcess.start({ ...toSink(sink.url), tail_sampling: example.tail_sampling });
    await postAll(relay, outOfOrderBeacons(cases.map(([, trace]) => trace)));
    await decided(relay, cases.length);
    await relay.stop();
  });
  afterAll(async () => {
    await relay.stop();
    await sink.close();
  });

  it.each(cases)('%s', (_, trace, kept) => {
    const spans = sink.spans().filter((s) => s.traceId === trace.traceId);
    expect(spans).toHaveLength(kept ? trace.spans.length : 0);
  });

  it('marks the baseline-kept trace with its probability', () => {
    const baseline = cases[3]?.[1] as TestTrace;
    const span = sink.spans().find((s) => s.traceId === baseline.traceId);
    expect(span?.traceState).toBe('ot=th:f3333333333333');
    expect(span?.attributes['sampling.adjusted_count']).toBeCloseTo(20, 6);
  });
});
