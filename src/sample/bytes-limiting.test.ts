import { describe, expect, it } from 'vitest';
import { manualClock, trace } from '../../test/support/span-fixture.ts';
import { bytesLimiting } from './bytes-limiting.ts';

describe('bytes_limiting', () => {
  it('keeps traces while their bytes fit the bucket, refilling per second', () => {
    const clock = manualClock();
    const policy = bytesLimiting('bl', { bytes_per_second: 1000, burst_capacity: 0 }, 1, clock.now);
    expect(policy.evaluate(trace({ size: 800 })).kind).toBe('sampled');
    expect(policy.evaluate(trace({ size: 300 })).kind).toBe('not_sampled');
    clock.advance(100);
    expect(policy.evaluate(trace({ size: 300 })).kind).toBe('sampled');
  });
});
