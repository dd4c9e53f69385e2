import { anyAttribute, matched } from './attributes.ts';
import { type Policy, sampledIf } from './policy.ts';
import type { BooleanAttributeConfig } from './schema.ts';

/** Keeps traces where a span or resource has a boolean attribute with the given value. */
export function booleanAttribute(name: string, config: BooleanAttributeConfig): Policy {
  return {
    name,
    evaluate(trace) {
      const found = anyAttribute(trace, config.key, (v) => v.type === 'bool' && v.value === config.value);
      return sampledIf(matched(found, config.invert_match));
    },
  };
}
