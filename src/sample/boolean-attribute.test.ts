import { describe, expect, it } from 'vitest';
import { trace } from '../../test/support/span-fixture.ts';
import { booleanAttribute } from './boolean-attribute.ts';

describe('boolean_attribute', () => {
  it('keeps traces where a span has the value', () => {
    const policy = booleanAttribute('forced', { key: 'app.force_sample', value: true, invert_match: false });
    expect(policy.evaluate(trace({}, { attrs: { 'app.force_sample': true } })).kind).toBe('sampled');
    expect(policy.evaluate(trace({ attrs: { 'app.force_sample': false } })).kind).toBe('not_sampled');
    expect(policy.evaluate(trace({ attrs: { 'app.force_sample': 'true' } })).kind).toBe('not_sampled');
  });
  it('inverts the match', () => {
    const policy = booleanAttribute('human', { key: 'is_bot', value: true, invert_match: true });
    expect(policy.evaluate(trace({ attrs: { is_bot: true } })).kind).toBe('not_sampled');
    expect(policy.evaluate(trace({})).kind).toBe('sampled');
  });
});
