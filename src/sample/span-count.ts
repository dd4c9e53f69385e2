import { type Policy, sampledIf } from './policy.ts';
import type { SpanCountConfig } from './schema.ts';

/** Keeps traces with at least min_spans spans and, when max_spans is set, at most max_spans. */
export function spanCount(name: string, config: SpanCountConfig): Policy {
  const max = config.max_spans || Number.POSITIVE_INFINITY;
  return {
    name,
    evaluate: ({ facts }) => sampledIf(facts.spans >= config.min_spans && facts.spans <= max),
  };
}
