import { type Clock, type Policy, sampledIf } from './policy.ts';
import type { BytesLimitingConfig } from './schema.ts';
import { TokenBucket } from './token-bucket.ts';

/** Keeps whole traces while a token bucket of (estimated encoded) bytes allows. `share`: this shard's part. */
export function bytesLimiting(
  name: string,
  config: BytesLimitingConfig,
  share: number,
  clock: Clock,
): Policy {
  const rate = config.bytes_per_second * share;
  const bucket = new TokenBucket(rate, (config.burst_capacity || config.bytes_per_second) * share, clock);
  return { name, evaluate: (trace) => sampledIf(bucket.take(trace.bytes)) };
}
