import { LRUCache } from 'lru-cache';
import { cidrSet } from '../lib/cidr.ts';
import type { PopRange } from './config.ts';

export const UNKNOWN_POP = 'unknown';

/** Maps an edge IP to its PoP by the first matching range; answers are cached, since edges repeat. */
export function popLookup(ranges: readonly PopRange[], cacheSize: number): (ip: string) => string {
  const matchers = ranges.map((range) => ({ pop: range.pop, contains: cidrSet([range.cidr]) }));
  const cache = new LRUCache<string, string>({ max: cacheSize });
  return (ip) => {
    let pop = cache.get(ip);
    if (pop === undefined) {
      pop = matchers.find((m) => m.contains(ip))?.pop ?? UNKNOWN_POP;
      cache.set(ip, pop);
    }
    return pop;
  };
}
