import { describe, expect, it } from 'vitest';
import { randomTraceId } from '../../test/support/ids.ts';
import { trace } from '../../test/support/span-fixture.ts';
import { probabilistic } from './probabilistic.ts';
import { adjustedCount, randomnessOf, thresholdHex, thresholdOf } from './probability.ts';

const withId = (traceId: string, traceState = '') => trace({ traceId, traceState });

describe('consistent probability', () => {
  it('computes thresholds and their th encoding as the OpenTelemetry specification does', () => {
    expect(thresholdHex(thresholdOf(100))).toBe('0');
    expect(thresholdHex(thresholdOf(50))).toBe('8');
    expect(thresholdHex(thresholdOf(25))).toBe('c');
    expect(thresholdHex(thresholdOf(10))).toBe('e6666666666666');
    expect(adjustedCount(thresholdOf(25))).toBe(4);
  });
  it('takes randomness from the last 56 bits of the trace id, or from an explicit rv', () => {
    expect(randomnessOf('4bf92f3577b34da6a3ce929d0e0e4736', '')).toBe(0xce929d0e0e4736n);
    expect(randomnessOf('4bf92f3577b34da6a3ce929d0e0e4736', 'ot=rv:00000000000001;th:8')).toBe(1n);
  });
});

describe('probabilistic', () => {
  it('keeps a trace exactly when its randomness reaches the threshold, and says at what threshold', () => {
    const policy = probabilistic('half', { sampling_percentage: 50, hash_salt: '' });
    expect(policy.evaluate(withId('0000000000000000ff80000000000000'))).toEqual({
      kind: 'sampled',
      threshold: 1n << 55n,
    });
    expect(policy.evaluate(withId('0000000000000000ff7fffffffffffff')).kind).toBe('not_sampled');
  });
  it('keeps within statistical tolerance of the percentage', () => {
    const policy = probabilistic('ten', { sampling_percentage: 10, hash_salt: '' });
    const n = 20000;
    let kept = 0;
    for (let i = 0; i < n; i++) if (policy.evaluate(withId(randomTraceId())).kind === 'sampled') kept++;
    // 10% of 20000 = 2000, standard deviation ~42; 5 sigma.
    expect(Math.abs(kept - 2000)).toBeLessThan(212);
  });
  it('keeps everything at 100 and nothing at 0', () => {
    expect(
      probabilistic('all', { sampling_percentage: 100, hash_salt: '' }).evaluate(withId('0'.repeat(32))),
    ).toEqual({ kind: 'sampled' });
    expect(
      probabilistic('none', { sampling_percentage: 0, hash_salt: '' }).evaluate(withId('f'.repeat(32))).kind,
    ).toBe('not_sampled');
  });
  it('with hash_salt decides by salted hash: other traces, no threshold', () => {
    const a = probabilistic('a', { sampling_percentage: 50, hash_salt: 'tier-1' });
    const b = probabilistic('b', { sampling_percentage: 50, hash_salt: 'tier-2' });
    const ids = Array.from({ length: 400 }, randomTraceId);
    const decisions = (p: typeof a) => ids.map((id) => p.evaluate(withId(id)).kind);
    expect(decisions(a)).toEqual(decisions(a));
    expect(decisions(a)).not.toEqual(decisions(b));
    expect(ids.map((id) => a.evaluate(withId(id))).find((d) => d.kind === 'sampled')).toEqual({
      kind: 'sampled',
    });
  });
});
