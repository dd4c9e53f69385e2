import { afterEach, describe, expect, it } from 'vitest';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { waitFor } from '../support/wait-for.ts';
import {
  beacon,
  decided,
  outOfOrderBeacons,
  postAll,
  testTrace,
  toSink,
  traceIdWith,
} from './tail-sampling-traffic.ts';

const relays: RelayProcess[] = [];
const sinks: OtlpSink[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.stop();
  for (const sink of sinks.splice(0)) await sink.close();
});

async function start(tailSampling: Record<string, unknown>) {
  const sink = await OtlpSink.start();
  sinks.push(sink);
  const relay = await RelayProcess.start({ ...toSink(sink.url), tail_sampling: tailSampling });
  relays.push(relay);
  return { sink, relay };
}

const errors = { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } };
const T20 = (1n << 56n) - (1n << 56n) / 5n; // the threshold of 20%

describe('tail sampling', () => {
  it('keeps error traces whole and drops the rest completely, from out-of-order beacons', async () => {
    const { sink, relay } = await start({
      decision_wait: '3s',
      decision_wait_after_root_received: '300ms',
      policies: [
        errors,
        { name: 'fifth', type: 'probabilistic', probabilistic: { sampling_percentage: 20 } },
        {
          name: 'no-health',
          type: 'drop',
          drop: {
            drop_sub_policy: [
              {
                name: 'health',
                type: 'string_attribute',
                string_attribute: { key: 'url.path', values: ['/health'] },
              },
            ],
          },
        },
      ],
    });
    const traces = Array.from({ length: 60 }, (_, i) => {
      const randomness = BigInt(i) * ((1n << 56n) / 60n);
      return testTrace(traceIdWith(i, randomness), {
        error: i % 3 === 0,
        path: i % 10 === 9 ? '/health' : '/',
      });
    });
    const expected = traces.filter((t, i) => {
      const lucky = BigInt(`0x${t.traceId.slice(18)}`) >= T20;
      return i % 10 !== 9 && (i % 3 === 0 || lucky);
    });
    const spansOf = (list: typeof traces) => list.reduce((n, t) => n + t.spans.length, 0);
    await postAll(relay, outOfOrderBeacons(traces));
    await decided(relay, traces.length);
    await waitFor(
      async () =>
        (await relay.metric('edge_relay_spans_sampled_out_total')) === spansOf(traces) - spansOf(expected),
      'dropped spans counted',
    );
    expect(await relay.stop()).toBe(0);

    const atSink = new Map<string, number>();
    for (const span of sink.spans()) atSink.set(span.traceId, (atSink.get(span.traceId) ?? 0) + 1);
    expect([...atSink.keys()].sort()).toEqual(expected.map((t) => t.traceId).sort());
    for (const trace of expected) expect(atSink.get(trace.traceId)).toBe(trace.spans.length);
  });

  it('keeps a probability within tolerance, identically in two relays given the same trace ids', async () => {
    const config = {
      decision_wait: '200ms',
      policies: [{ name: 'ten', type: 'probabilistic', probabilistic: { sampling_percentage: 10 } }],
    };
    const a = await start(config);
    const b = await start(config);
    const traces = Array.from({ length: 1000 }, (_, i) =>
      testTrace(traceIdWith(i, BigInt(Math.floor(Math.random() * 2 ** 52)) * 16n), { children: 0 }),
    );
    const beacons = traces.map((t) => beacon(t, t.spans));
    await Promise.all([postAll(a.relay, beacons), postAll(b.relay, beacons)]);
    await Promise.all([decided(a.relay, 1000), decided(b.relay, 1000)]);
    await Promise.all([a.relay.stop(), b.relay.stop()]);
    const kept = (sink: OtlpSink) =>
      sink
        .spans()
        .map((s) => s.traceId)
        .sort();
    expect(kept(a.sink)).toEqual(kept(b.sink));
    // 100 expected, standard deviation about 9.5: five sigma.
    expect(Math.abs(kept(a.sink).length - 100)).toBeLessThan(48);
    const span = a.sink.spans()[0];
    expect(span?.traceState).toBe('ot=th:e6666666666666');
    expect(span?.attributes['sampling.adjusted_count']).toBeCloseTo(10, 6);
  });

  it('sends late spans the way their trace was decided', async () => {
    const { sink, relay } = await start({ decision_wait: '300ms', policies: [errors] });
    const kept = testTrace(traceIdWith(1, 5n), { error: true });
    const dropped = testTrace(traceIdWith(2, 5n));
    await postAll(relay, [beacon(kept, kept.spans.slice(3)), beacon(dropped, dropped.spans.slice(0, 3))]);
    await decided(relay, 2);
    // The late part of the dropped trace has an error: the first decision still holds.
    const lateError = { ...(dropped.spans[3] as (typeof dropped.spans)[number]), status: 'error' as const };
    await postAll(relay, [
      beacon(kept, kept.spans.slice(0, 3)),
      beacon(dropped, [lateError, ...dropped.spans.slice(4)]),
    ]);
    await waitFor(
      async () =>
        (await relay.metric('edge_relay_sampling_late_spans_total', { decision: 'not_sampled' })) === 3,
      'late spans',
    );
    expect(await relay.metric('edge_relay_sampling_late_spans_total', { decision: 'sampled' })).toBe(3);
    expect(await relay.metric('edge_relay_sampling_decision_cache_hits_total', { decision: 'sampled' })).toBe(
      1,
    );
    await relay.stop();
    expect(sink.spans().filter((s) => s.traceId === kept.traceId)).toHaveLength(kept.spans.length);
    expect(sink.spans().filter((s) => s.traceId === dropped.traceId)).toHaveLength(0);
  });
});
