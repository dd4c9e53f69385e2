import { describe, expect, it } from 'vitest';
import { trace } from '../../test/support/span-fixture.ts';
import { and } from './and.ts';
import { NOT_SAMPLED, type Policy, SAMPLED } from './policy.ts';

const fixed = (decision: Policy['evaluate']): Policy => ({ name: 'x', evaluate: decision });

describe('and', () => {
  it('samples only when every sub-policy samples', () => {
    expect(and('a', [fixed(() => SAMPLED), fixed(() => SAMPLED)]).evaluate(trace({})).kind).toBe('sampled');
    expect(and('a', [fixed(() => SAMPLED), fixed(() => NOT_SAMPLED)]).evaluate(trace({})).kind).toBe(
      'not_sampled',
    );
  });
  it('carries the strictest probability threshold of its sub-policies', () => {
    const p = (threshold: bigint) => fixed(() => ({ kind: 'sampled', threshold }));
    expect(and('a', [p(8n), fixed(() => SAMPLED), p(12n)]).evaluate(trace({}))).toEqual({
      kind: 'sampled',
      threshold: 12n,
    });
  });
});
