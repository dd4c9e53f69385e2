import { describe, expect, it } from 'vitest';
import { trace } from '../../test/support/span-fixture.ts';
import { drop } from './drop.ts';
import { not } from './not.ts';
import { statusCode } from './status-code.ts';
import { stringAttribute } from './string-attribute.ts';

describe('drop', () => {
  const probes = drop('drop-probes', [
    stringAttribute('probe', {
      key: 'http.route',
      values: ['/health'],
      enabled_regex_matching: false,
      cache_max_size: 0,
      invert_match: false,
    }),
    not('no-error', statusCode('errors', { status_codes: ['ERROR'] })),
  ]);
  it('drops a trace when all its sub-policies match', () => {
    expect(probes.evaluate(trace({ attrs: { 'http.route': '/health' } })).kind).toBe('dropped');
  });
  it('does not drop when one sub-policy does not match', () => {
    expect(probes.evaluate(trace({ attrs: { 'http.route': '/health' }, status: 2 })).kind).toBe(
      'not_sampled',
    );
    expect(probes.evaluate(trace({ attrs: { 'http.route': '/cart' } })).kind).toBe('not_sampled');
  });
});
