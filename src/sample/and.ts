import { type Decision, NOT_SAMPLED, type Policy, SAMPLED } from './policy.ts';

/**
 * Keeps a trace when every sub-policy samples it. When sub-policies sampled at a probability, the
 * result carries the strictest threshold: the trace was kept with the smallest of their probabilities.
 */
export function and(name: string, subs: readonly Policy[]): Policy {
  return {
    name,
    evaluate(trace) {
      let threshold: bigint | undefined;
      for (const sub of subs) {
        const decision = sub.evaluate(trace);
        if (decision.kind !== 'sampled') return NOT_SAMPLED;
        if (decision.threshold !== undefined && (threshold === undefined || decision.threshold > threshold)) {
          threshold = decision.threshold;
        }
      }
      return threshold === undefined ? SAMPLED : ({ kind: 'sampled', threshold } satisfies Decision);
    },
  };
}
