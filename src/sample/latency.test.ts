import { describe, expect, it } from 'vitest';
import { trace } from '../../test/support/span-fixture.ts';
import { latency } from './latency.ts';

describe('latency', () => {
  it('measures from the earliest start to the latest end across spans', () => {
    const policy = latency('slow', { threshold_ms: 100, upper_threshold_ms: 0 });
    expect(policy.evaluate(trace({ startMs: 0, durMs: 60 }, { startMs: 50, durMs: 60 })).kind).toBe(
      'sampled',
    );
    expect(policy.evaluate(trace({ startMs: 0, durMs: 60 }, { startMs: 10, durMs: 60 })).kind).toBe(
      'not_sampled',
    );
  });
  it('treats threshold_ms as exclusive without an upper bound', () => {
    const policy = latency('slow', { threshold_ms: 100, upper_threshold_ms: 0 });
    expect(policy.evaluate(trace({ durMs: 100 })).kind).toBe('not_sampled');
    expect(policy.evaluate(trace({ durMs: 100.5 })).kind).toBe('sampled');
  });
  it('keeps durations between both bounds inclusive when upper_threshold_ms is set', () => {
    const policy = latency('band', { threshold_ms: 100, upper_threshold_ms: 200 });
    expect(policy.evaluate(trace({ durMs: 100 })).kind).toBe('sampled');
    expect(policy.evaluate(trace({ durMs: 200 })).kind).toBe('sampled');
    expect(policy.evaluate(trace({ durMs: 200.5 })).kind).toBe('not_sampled');
    expect(policy.evaluate(trace({ durMs: 99 })).kind).toBe('not_sampled');
  });
});
