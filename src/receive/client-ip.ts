import { cidrSet } from '../lib/cidr.ts';

const unmap = (ip: string): string => (ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip);

/**
 * The edge's address: the TCP peer, unless the peer is a trusted proxy, in which case the nearest
 * X-Forwarded-For entry that is not itself a trusted proxy. Untrusted peers cannot spoof it.
 */
export function clientIp(
  trustedProxies: readonly string[],
): (peer: string, forwardedFor: string | undefined) => string {
  if (trustedProxies.length === 0) return (peer) => unmap(peer);
  const trusted = cidrSet(trustedProxies);
  return (peer, forwardedFor) => {
    let ip = unmap(peer);
    if (!forwardedFor || !trusted(ip)) return ip;
    const hops = forwardedFor.split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      ip = unmap((hops[i] as string).trim());
      if (!trusted(ip)) return ip;
    }
    return ip;
  };
}
