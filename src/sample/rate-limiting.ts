import { type Clock, type Policy, sampledIf } from './policy.ts';
import type { RateLimitingConfig } from './schema.ts';
import { TokenBucket } from './token-bucket.ts';

/**
 * Keeps whole traces while a token bucket of spans allows: spans_per_second refill, burst_capacity
 * (default one second's worth) at most. `share` is this shard's part of the limit.
 */
export function rateLimiting(name: string, config: RateLimitingConfig, share: number, clock: Clock): Policy {
  const rate = config.spans_per_second * share;
  const bucket = new TokenBucket(rate, (config.burst_capacity || config.spans_per_second) * share, clock);
  return { name, evaluate: (trace) => sampledIf(bucket.take(trace.facts.spans)) };
}
