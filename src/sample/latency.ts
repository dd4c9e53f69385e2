import { type Policy, sampledIf } from './policy.ts';
import type { LatencyConfig } from './schema.ts';

/**
 * Keeps traces by duration, from the earliest span start to the latest span end. Without an upper bound,
 * the trace must last longer than threshold_ms; with one, between the two bounds inclusive (as the Collector).
 */
export function latency(name: string, config: LatencyConfig): Policy {
  const { threshold_ms: lower, upper_threshold_ms: upper } = config;
  return {
    name,
    evaluate(trace) {
      const { startNs, endNs } = trace.facts;
      const ms = startNs === undefined ? 0 : Number(endNs - startNs) / 1e6;
      return sampledIf(upper > 0 ? ms >= lower && ms <= upper : ms > lower);
    },
  };
}
