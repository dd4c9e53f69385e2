import { describe, expect, it } from 'vitest';
import { parseCidr } from '../lib/cidr.ts';
import { popLookup, UNKNOWN_POP } from './pop-lookup.ts';

describe('popLookup', () => {
  const lookup = popLookup(
    [
      { cidr: '203.0.113.0/25', pop: 'FRA' },
      { cidr: '203.0.113.0/24', pop: 'AMS' },
      { cidr: '2001:db8:1::/48', pop: 'NRT' },
    ],
    2,
  );

  it('answers the first matching range', () => {
    expect(lookup('203.0.113.5')).toBe('FRA');
    expect(lookup('203.0.113.200')).toBe('AMS');
    expect(lookup('2001:db8:1::42')).toBe('NRT');
  });

  it('answers unknown outside every range, and for non-addresses', () => {
    expect(lookup('198.51.100.1')).toBe(UNKNOWN_POP);
    expect(lookup('not-an-ip')).toBe(UNKNOWN_POP);
  });

  it('gives the same answers past its cache size', () => {
    const ips = ['203.0.113.5', '203.0.113.200', '198.51.100.1', '203.0.113.5'];
    expect(ips.map(lookup)).toEqual(['FRA', 'AMS', UNKNOWN_POP, 'FRA']);
  });
});

describe('parseCidr', () => {
  it.each(['10.0.0.0/8', '0.0.0.0/0', '2001:db8::/32', '::1/128'])('accepts %s', (text) => {
    expect(parseCidr(text)).toBeDefined();
  });
  it.each(['10.0.0.0', '10.0.0.0/33', '2001:db8::/129', 'x/8', '10.0.0.0/-1', '10.0.0.0/ 8'])(
    'refuses %s',
    (text) => {
      expect(parseCidr(text)).toBeUndefined();
    },
  );
});
