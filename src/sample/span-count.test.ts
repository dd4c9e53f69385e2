import { describe, expect, it } from 'vitest';
import { trace } from '../../test/support/span-fixture.ts';
import { spanCount } from './span-count.ts';

describe('span_count', () => {
  it('keeps traces with min_spans..max_spans spans, bounds included', () => {
    const policy = spanCount('mid', { min_spans: 2, max_spans: 3 });
    expect(policy.evaluate(trace({})).kind).toBe('not_sampled');
    expect(policy.evaluate(trace({}, {})).kind).toBe('sampled');
    expect(policy.evaluate(trace({}, {}, {})).kind).toBe('sampled');
    expect(policy.evaluate(trace({}, {}, {}, {})).kind).toBe('not_sampled');
  });
  it('has no upper bound when max_spans is 0', () => {
    const policy = spanCount('big', { min_spans: 2, max_spans: 0 });
    expect(policy.evaluate(trace(...Array.from({ length: 500 }, () => ({})))).kind).toBe('sampled');
  });
});
