import { describe, expect, it } from 'vitest';
import { trace } from '../../test/support/span-fixture.ts';
import { traceState, traceStateValue } from './trace-state.ts';

describe('trace_state', () => {
  it('reads list members of a W3C tracestate', () => {
    expect(traceStateValue('a=1, vendor=x,ot=th:8', 'vendor')).toBe('x');
    expect(traceStateValue('a=1', 'b')).toBeUndefined();
  });
  it('keeps traces with the key set to one of the values', () => {
    const policy = traceState('canary', { key: 'shop', values: ['canary', 'beta'] });
    expect(policy.evaluate(trace({ traceState: 'ot=th:8,shop=beta' })).kind).toBe('sampled');
    expect(policy.evaluate(trace({ traceState: 'shop=prod' })).kind).toBe('not_sampled');
    expect(policy.evaluate(trace({})).kind).toBe('not_sampled');
  });
});
