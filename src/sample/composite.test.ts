import { describe, expect, it } from 'vitest';
import { manualClock, trace } from '../../test/support/span-fixture.ts';
import { alwaysSample } from './always-sample.ts';
import { composite } from './composite.ts';
import { statusCode } from './status-code.ts';

const spans = (n: number, status: 0 | 2 = 0) => trace(...Array.from({ length: n }, () => ({ status })));

describe('composite', () => {
  const config = {
    max_total_spans_per_second: 100,
    policy_order: ['errors', 'rest'],
    composite_sub_policy: [],
    rate_allocation: [
      { policy: 'errors', percent: 60 },
      { policy: 'rest', percent: 30 },
    ],
  };
  const subs = [alwaysSample('rest'), statusCode('errors', { status_codes: ['ERROR'] })];

  it('gives each sub-policy its allocated share per second, in policy_order', () => {
    const clock = manualClock(1_764_070_000_000);
    const policy = composite('c', config, subs, 1, clock.now);
    expect(policy.evaluate(spans(50, 2)).kind).toBe('sampled'); // errors: 50 of 60
    expect(policy.evaluate(spans(20, 2)).kind).toBe('sampled'); // errors full → falls to rest: 20 of 30
    expect(policy.evaluate(spans(20)).kind).toBe('not_sampled'); // rest would reach 40 > 30
    expect(policy.evaluate(spans(10)).kind).toBe('sampled'); // rest: 30 of 30
    expect(policy.evaluate(spans(1)).kind).toBe('not_sampled');
    clock.advance(1000);
    expect(policy.evaluate(spans(30)).kind).toBe('sampled');
  });
  it('lets sub-policies without an allocation use what is left of the total', () => {
    const clock = manualClock(1_764_070_000_000);
    const policy = composite(
      'c',
      { ...config, rate_allocation: [{ policy: 'errors', percent: 50 }] },
      subs,
      1,
      clock.now,
    );
    expect(policy.evaluate(spans(50, 2)).kind).toBe('sampled');
    expect(policy.evaluate(spans(50)).kind).toBe('sampled');
    expect(policy.evaluate(spans(1)).kind).toBe('not_sampled');
  });
});
