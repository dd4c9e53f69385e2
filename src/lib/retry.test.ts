import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter, type RetryConfig } from './retry.ts';

const config: RetryConfig = {
  enabled: true,
  initial_interval: 1000,
  randomization_factor: 0.5,
  multiplier: 2,
  max_interval: 5000,
  max_elapsed_time: 60000,
};

describe('backoffDelay', () => {
  it('grows exponentially up to max_interval', () => {
    const middle = () => 0.5;
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(config, n, middle))).toEqual([
      1000, 2000, 4000, 5000, 5000,
    ]);
  });

  it('spreads each delay by ±randomization_factor', () => {
    expect(backoffDelay(config, 1, () => 0)).toBe(1000);
    expect(backoffDelay(config, 1, () => 0.999999)).toBeCloseTo(3000, 0);
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(' 0 ')).toBe(0);
  });

  it('reads an HTTP date relative to now', () => {
    const now = Date.parse('Wed, 25 Nov 2026 12:00:00 GMT');
    expect(parseRetryAfter('Wed, 25 Nov 2026 12:00:30 GMT', now)).toBe(30000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 11:00:00 GMT', now)).toBe(0);
  });

  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
