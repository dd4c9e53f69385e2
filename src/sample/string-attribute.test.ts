import { describe, expect, it, vi } from 'vitest';
import { trace } from '../../test/support/span-fixture.ts';
import { stringAttribute } from './string-attribute.ts';

const settings = { enabled_regex_matching: false, cache_max_size: 128, invert_match: false };

describe('string_attribute', () => {
  it('matches exact values on spans and on resources (edge PoP, worker version)', () => {
    const pop = stringAttribute('fra', { ...settings, key: 'akamai.edge.pop', values: ['FRA', 'AMS'] });
    expect(pop.evaluate(trace({ resource: { 'akamai.edge.pop': 'AMS' } })).kind).toBe('sampled');
    expect(pop.evaluate(trace({ resource: { 'akamai.edge.pop': 'FRA2' } })).kind).toBe('not_sampled');
    const version = stringAttribute('v', {
      ...settings,
      key: 'akamai.edgeworker.version',
      values: ['1.4.2'],
    });
    expect(version.evaluate(trace({ resource: { 'akamai.edgeworker.version': '1.4.2' } })).kind).toBe(
      'sampled',
    );
  });
  it('matches regular expressions when enabled', () => {
    const policy = stringAttribute('api', {
      ...settings,
      key: 'url.path',
      values: ['^/api/', 'checkout$'],
      enabled_regex_matching: true,
    });
    expect(policy.evaluate(trace({ attrs: { 'url.path': '/api/x' } })).kind).toBe('sampled');
    expect(policy.evaluate(trace({ attrs: { 'url.path': '/cart/checkout' } })).kind).toBe('sampled');
    expect(policy.evaluate(trace({ attrs: { 'url.path': '/static/api/' } })).kind).toBe('not_sampled');
  });
  it('caches regex results per attribute value, bounded by cache_max_size', () => {
    const test = vi.spyOn(RegExp.prototype, 'test');
    const policy = stringAttribute('api', {
      ...settings,
      key: 'p',
      values: ['^/a'],
      enabled_regex_matching: true,
      cache_max_size: 2,
    });
    for (let i = 0; i < 3; i++) policy.evaluate(trace({ attrs: { p: '/a' } }));
    expect(test).toHaveBeenCalledTimes(1);
    policy.evaluate(trace({ attrs: { p: '/b' } }));
    policy.evaluate(trace({ attrs: { p: '/c' } }));
    policy.evaluate(trace({ attrs: { p: '/a' } }));
    // '/a' was evicted by the two newer values, so it is tested again.
    expect(test).toHaveBeenCalledTimes(4);
    test.mockRestore();
  });
  it('with invert_match keeps traces whose values all differ, and traces without the key', () => {
    const policy = stringAttribute('not-health', {
      ...settings,
      key: 'http.route',
      values: ['/health'],
      invert_match: true,
    });
    expect(policy.evaluate(trace({ attrs: { 'http.route': '/health' } })).kind).toBe('not_sampled');
    expect(policy.evaluate(trace({ attrs: { 'http.route': '/cart' } })).kind).toBe('sampled');
    expect(policy.evaluate(trace({})).kind).toBe('sampled');
  });
});
