import { describe, expect, it } from 'vitest';
import { trace } from '../../test/support/span-fixture.ts';
import { statusCode } from './status-code.ts';

describe('status_code', () => {
  it('keeps traces with any span in one of the codes', () => {
    const errors = statusCode('errors', { status_codes: ['ERROR'] });
    expect(errors.evaluate(trace({ status: 0 }, { status: 2 })).kind).toBe('sampled');
    expect(errors.evaluate(trace({ status: 0 }, { status: 1 })).kind).toBe('not_sampled');
    const unsetOrOk = statusCode('quiet', { status_codes: ['UNSET', 'OK'] });
    expect(unsetOrOk.evaluate(trace({ status: 1 })).kind).toBe('sampled');
  });
});
