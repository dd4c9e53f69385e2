import { LRUCache } from 'lru-cache';
import { anyAttribute, matched } from './attributes.ts';
import { type Policy, sampledIf } from './policy.ts';
import type { StringAttributeConfig } from './schema.ts';

/** Exact matching against a set, or regular expressions with an LRU cache of results per attribute value. */
function matcher(config: StringAttributeConfig): (value: string) => boolean {
  if (!config.enabled_regex_matching) {
    const values = new Set(config.values);
    return (value) => values.has(value);
  }
  const patterns = config.values.map((v) => new RegExp(v));
  const test = (value: string) => patterns.some((p) => p.test(value));
  if (config.cache_max_size === 0) return test;
  const cache = new LRUCache<string, boolean>({ max: config.cache_max_size });
  return (value) => {
    let result = cache.get(value);
    if (result === undefined) {
      result = test(value);
      cache.set(value, result);
    }
    return result;
  };
}

/**
 * Keeps traces where a span or resource has a string attribute matching one of the values. With
 * invert_match, keeps the traces where none does (including traces without the attribute).
 */
export function stringAttribute(name: string, config: StringAttributeConfig): Policy {
  const matches = matcher(config);
  return {
    name,
    evaluate(trace) {
      const found = anyAttribute(trace, config.key, (v) => v.type === 'string' && matches(v.value));
      return sampledIf(matched(found, config.invert_match));
    },
  };
}
