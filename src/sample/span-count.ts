import { type Policy, sampledIf } from './policy.ts';
import type { SpanCountConfig } from './schema.ts';

/** Keeps traces with at least min_spans spans and, when max_spans is set, at most max_spans. */
export function spanCount(name: string, config: SpanCountConfig): Policy {
  const max = config.max_spans || Number.POSITIVE_INFINITY;
  return {
    name,
    evaluate: (trace) => sampledIf(trace.spans.length >= config.min_spans && trace.spans.length <= max),
  };
}
