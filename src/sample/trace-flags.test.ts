import { describe, expect, it } from 'vitest';
import { trace } from '../../test/support/span-fixture.ts';
import { traceFlags } from './trace-flags.ts';

describe('trace_flags', () => {
  it('keeps traces with a span whose sampled flag is set', () => {
    const policy = traceFlags('head-sampled');
    expect(policy.evaluate(trace({ flags: 0 }, { flags: 1 })).kind).toBe('sampled');
    expect(policy.evaluate(trace({ flags: 0 }, { flags: 2 })).kind).toBe('not_sampled');
  });
});
