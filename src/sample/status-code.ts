import { StatusCode } from '../model/span.ts';
import { NOT_SAMPLED, type Policy, SAMPLED } from './policy.ts';
import type { StatusCodeConfig } from './schema.ts';

/** Keeps traces with at least one span whose status is one of the listed codes. */
export function statusCode(name: string, config: StatusCodeConfig): Policy {
  const codes = new Set<number>(config.status_codes.map((code) => StatusCode[code]));
  return {
    name,
    evaluate(trace) {
      for (const { span } of trace.spans) if (codes.has(span.status.code)) return SAMPLED;
      return NOT_SAMPLED;
    },
  };
}
