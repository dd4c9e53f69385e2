import { type Policy, sampledIf } from './policy.ts';

/** Samples exactly the traces its sub-policy does not sample. */
export const not = (name: string, sub: Policy): Policy => ({
  name,
  evaluate: (trace) => sampledIf(sub.evaluate(trace).kind !== 'sampled'),
});
