import { StatusCode } from '../model/span.ts';
import { NOT_SAMPLED, type Policy, SAMPLED } from './policy.ts';
import type { StatusCodeConfig } from './schema.ts';

/** Keeps traces with at least one span whose status is one of the listed codes. */
export function statusCode(name: string, config: StatusCodeConfig): Policy {
  let codes = 0;
  for (const code of config.status_codes) codes |= 1 << StatusCode[code];
  return { name, evaluate: (trace) => ((trace.facts.statuses & codes) !== 0 ? SAMPLED : NOT_SAMPLED) };
}
