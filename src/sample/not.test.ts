import { describe, expect, it } from 'vitest';
import { trace } from '../../test/support/span-fixture.ts';
import { not } from './not.ts';
import { statusCode } from './status-code.ts';

describe('not', () => {
  it('samples exactly what its sub-policy does not', () => {
    const noErrors = not('no-errors', statusCode('errors', { status_codes: ['ERROR'] }));
    expect(noErrors.evaluate(trace({ status: 2 })).kind).toBe('not_sampled');
    expect(noErrors.evaluate(trace({ status: 0 })).kind).toBe('sampled');
  });
});
