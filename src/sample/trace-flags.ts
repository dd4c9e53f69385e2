import { type Policy, sampledIf } from './policy.ts';

const SAMPLED_FLAG = 0x01;

/** Keeps traces with a span whose W3C trace flags have the sampled bit set. */
export const traceFlags = (name: string): Policy => ({
  name,
  evaluate: (trace) => sampledIf(trace.spans.some(({ span }) => (span.flags & SAMPLED_FLAG) !== 0)),
});
