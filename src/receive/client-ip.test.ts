import { describe, expect, it } from 'vitest';
import { clientIp } from './client-ip.ts';

describe('clientIp', () => {
  it('uses the TCP peer and ignores X-Forwarded-For without trusted proxies', () => {
    expect(clientIp([])('::ffff:198.51.100.7', '203.0.113.1')).toBe('198.51.100.7');
  });

  it('takes the nearest untrusted hop when the peer is a trusted proxy', () => {
    const ip = clientIp(['10.0.0.0/8', '192.0.2.0/24']);
    expect(ip('10.1.2.3', '203.0.113.1, 198.51.100.7, 192.0.2.5')).toBe('198.51.100.7');
    expect(ip('203.0.113.9', '198.51.100.7')).toBe('203.0.113.9');
    expect(ip('10.1.2.3', undefined)).toBe('10.1.2.3');
  });

  it('works for IPv6 proxies', () => {
    expect(clientIp(['2001:db8::/32'])('2001:db8::1', '2001:db8:ffff::1, 2600::1')).toBe('2600::1');
  });
});
