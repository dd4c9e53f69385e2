import { describe, expect, it } from 'vitest';
import { trace } from '../../test/support/span-fixture.ts';
import { numericAttribute } from './numeric-attribute.ts';

const key = 'http.response.status_code';

describe('numeric_attribute', () => {
  it('keeps traces with a value in [min_value, max_value], bounds included', () => {
    const policy = numericAttribute('5xx', { key, min_value: 500, max_value: 599, invert_match: false });
    expect(policy.evaluate(trace({ attrs: { [key]: 200 } }, { attrs: { [key]: 500 } })).kind).toBe('sampled');
    expect(policy.evaluate(trace({ attrs: { [key]: 599 } })).kind).toBe('sampled');
    expect(policy.evaluate(trace({ attrs: { [key]: 600 } })).kind).toBe('not_sampled');
    expect(policy.evaluate(trace({ attrs: { [key]: '500' } })).kind).toBe('not_sampled');
  });
  it('leaves a missing bound open', () => {
    const policy = numericAttribute('big', { key: 'n', min_value: 10, invert_match: false });
    expect(policy.evaluate(trace({ attrs: { n: 1e12 } })).kind).toBe('sampled');
    expect(policy.evaluate(trace({ attrs: { n: 9.5 } })).kind).toBe('not_sampled');
  });
  it('with invert_match keeps traces without a matching value, including those without the key', () => {
    const policy = numericAttribute('not-5xx', { key, min_value: 500, max_value: 599, invert_match: true });
    expect(policy.evaluate(trace({ attrs: { [key]: 503 } })).kind).toBe('not_sampled');
    expect(policy.evaluate(trace({ attrs: { [key]: 200 } })).kind).toBe('sampled');
    expect(policy.evaluate(trace({})).kind).toBe('sampled');
  });
  it('sees resource attributes', () => {
    const policy = numericAttribute('r', { key: 'tier', min_value: 2, max_value: 2, invert_match: false });
    expect(policy.evaluate(trace({ resource: { tier: 2 } })).kind).toBe('sampled');
  });
});
