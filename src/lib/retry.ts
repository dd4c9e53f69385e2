import type { ConfigOf } from './component.ts';
import { duration, section } from './schema-keywords.ts';

/** The Collector's `retry_on_failure` (configretry): the same keys and defaults wherever a component retries. */
export const retryOnFailureSchema = section({
  enabled: { type: 'boolean', default: true },
  initial_interval: duration('5s'),
  randomization_factor: { type: 'number', minimum: 0, maximum: 1, default: 0.5 },
  multiplier: { type: 'number', minimum: 1, default: 1.5 },
  max_interval: duration('30s'),
  // 0: retry without a time limit (bounded still by the queue).
  max_elapsed_time: duration('300s'),
});
export type RetryConfig = ConfigOf<typeof retryOnFailureSchema>;

/** OTLP/HTTP: these answers mean "try again later"; any other 4xx means the data will never be accepted. */
export const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/**
 * Backoff before retry number `attempt` (0-based): exponential from initial_interval, capped at
 * max_interval, spread by ±randomization_factor so that many relays do not retry in step.
 */
export function backoffDelay(
  config: RetryConfig,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(config.initial_interval * config.multiplier ** attempt, config.max_interval);
  const spread = base * config.randomization_factor;
  return base - spread + random() * 2 * spread;
}

/** Milliseconds a Retry-After header asks for (delta-seconds or an HTTP date), or undefined. */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
