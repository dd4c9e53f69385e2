import { anyAttribute, matched } from './attributes.ts';
import { type Policy, sampledIf } from './policy.ts';
import type { NumericAttributeConfig } from './schema.ts';

/** Keeps traces where a span or resource has a numeric attribute within [min_value, max_value]. */
export function numericAttribute(name: string, config: NumericAttributeConfig): Policy {
  const min = config.min_value ?? Number.NEGATIVE_INFINITY;
  const max = config.max_value ?? Number.POSITIVE_INFINITY;
  return {
    name,
    evaluate(trace) {
      const found = anyAttribute(trace, config.key, (value) => {
        if (value.type !== 'int' && value.type !== 'double') return false;
        const n = Number(value.value);
        return n >= min && n <= max;
      });
      return sampledIf(matched(found, config.invert_match));
    },
  };
}
