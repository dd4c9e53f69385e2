import type { Decision, Policy } from './policy.ts';
import { NOT_SAMPLED, SAMPLED } from './policy.ts';
import { randomnessOf, saltedRandomness, thresholdOf } from './probability.ts';
import type { ProbabilisticConfig } from './schema.ts';

/**
 * Keeps sampling_percentage of traces. Without hash_salt the decision is consistent probability sampling
 * on the trace id's randomness, so every relay and every OTel consistent sampler agrees, and kept traces
 * carry the threshold. With hash_salt (meant to decorrelate tiers) it hashes salt and trace id like the
 * Collector; such a decision is not consistent, so it carries no threshold.
 */
export function probabilistic(name: string, config: ProbabilisticConfig): Policy {
  const threshold = thresholdOf(config.sampling_percentage);
  const salt = config.hash_salt;
  const sampled: Decision = threshold === 0n || salt ? SAMPLED : { kind: 'sampled', threshold };
  return {
    name,
    evaluate(trace) {
      if (trace.facts.spans === 0) return NOT_SAMPLED;
      const r = salt
        ? saltedRandomness(trace.traceId, salt)
        : randomnessOf(trace.traceId, trace.facts.otState);
      return r >= threshold ? sampled : NOT_SAMPLED;
    },
  };
}
