import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/load-config.ts';
import { backoffDelay, parseRetryAfter } from './retry.ts';

describe('retry', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(' 120 ')).toBe(120_000);
    const now = Date.parse('2026-11-25T12:00:00Z');
    expect(parseRetryAfter('Wed, 25 Nov 2026 12:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('backs off exponentially to max_interval, spread by the randomization factor', () => {
    const retry = resolveConfig({}).exporter.retry_on_failure; // 5s × 1.5ⁿ, ±50%, ≤ 30s
    expect(backoffDelay(retry, 0, () => 0.5)).toBe(5000);
    expect(backoffDelay(retry, 1, () => 0.5)).toBe(7500);
    expect(backoffDelay(retry, 1, () => 0)).toBe(3750);
    expect(backoffDelay(retry, 1, () => 1)).toBe(11_250);
    expect(backoffDelay(retry, 20, () => 0.5)).toBe(30_000);
  });
});
