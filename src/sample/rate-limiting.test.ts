import { describe, expect, it } from 'vitest';
import { manualClock, trace } from '../../test/support/span-fixture.ts';
import { rateLimiting } from './rate-limiting.ts';

const spans = (n: number) => trace(...Array.from({ length: n }, () => ({})));

describe('rate_limiting', () => {
  it('keeps whole traces up to spans_per_second, then refills over time', () => {
    const clock = manualClock();
    const policy = rateLimiting('rl', { spans_per_second: 10, burst_capacity: 0 }, 1, clock.now);
    expect(policy.evaluate(spans(6)).kind).toBe('sampled');
    expect(policy.evaluate(spans(6)).kind).toBe('not_sampled');
    expect(policy.evaluate(spans(4)).kind).toBe('sampled');
    clock.advance(500);
    expect(policy.evaluate(spans(6)).kind).toBe('not_sampled');
    expect(policy.evaluate(spans(5)).kind).toBe('sampled');
    clock.advance(10_000);
    // Refill stops at the burst capacity: one second's worth.
    expect(policy.evaluate(spans(11)).kind).toBe('not_sampled');
    expect(policy.evaluate(spans(10)).kind).toBe('sampled');
  });
  it('allows bursts up to burst_capacity', () => {
    const clock = manualClock();
    const policy = rateLimiting('rl', { spans_per_second: 10, burst_capacity: 30 }, 1, clock.now);
    expect(policy.evaluate(spans(30)).kind).toBe('sampled');
    expect(policy.evaluate(spans(1)).kind).toBe('not_sampled');
  });
  it('gives each shard its share of the limit', () => {
    const policy = rateLimiting('rl', { spans_per_second: 10, burst_capacity: 0 }, 1 / 2, manualClock().now);
    expect(policy.evaluate(spans(6)).kind).toBe('not_sampled');
    expect(policy.evaluate(spans(5)).kind).toBe('sampled');
  });
});
