import { StatusCode } from '../model/span.ts';
import type { StatusCodeConfig } from './config.ts';
import { type Policy, sampledIf } from './policy.ts';

/** Keeps traces with at least one span whose status is one of the listed codes. */
export function statusCode(name: string, config: StatusCodeConfig): Policy {
  const codes = new Set<number>(config.status_codes.map((code) => StatusCode[code]));
  return {
    name,
    evaluate: (trace) => sampledIf(trace.spans.some(({ span }) => codes.has(span.status.code))),
  };
}
