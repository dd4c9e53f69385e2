import { describe, expect, it } from 'vitest';
import { bearerAuth } from './auth.ts';

describe('bearerAuth', () => {
  const allowed = bearerAuth(['first-token-0123456789', 'second-token-0123456789']);

  it('accepts any configured token', () => {
    expect(allowed('Bearer first-token-0123456789')).toBe(true);
    expect(allowed('Bearer second-token-0123456789')).toBe(true);
  });

  it('takes the scheme in any case', () => {
    expect(allowed('bearer first-token-0123456789')).toBe(true);
    expect(allowed('BEARER first-token-0123456789')).toBe(true);
  });

  it.each([
    undefined,
    '',
    'Bearer ',
    'Basic first-token-0123456789',
    'Bearer first-token-012345678',
    'first-token-0123456789',
    'Bearerfirst-token-0123456789',
  ])('refuses %j', (header) => {
    expect(allowed(header)).toBe(false);
  });
});
