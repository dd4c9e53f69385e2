import { ConfigError } from '../lib/errors.ts';
import { duration, section } from '../lib/schema-keywords.ts';

// `version_health.judge`: how the version judge (src/judge/) compares a new EdgeWorker version with the
// one it replaces. It runs on the main thread over the merged series once per evaluation_interval, so
// it is on whenever version_health is: it costs nothing per span. Method: docs/version-health.md, "Detection".

/** Windows of history kept per version: bounds the judge's memory whatever the interval and window. */
export const MAX_WINDOWS = 1440;

export const judgeSchema = section({
  enabled: { type: 'boolean', default: true },
  // One look, and the width of one window of history (the merged counters' difference since the last look).
  evaluation_interval: duration('1m'),
  // How much history a comparison covers: side by side, the windows both versions served; before/after,
  // the baseline's last windows with traffic.
  window: duration('30m'),
  // Of each side, per comparison (server spans for errors and server latency, client spans for origin).
  min_requests: { type: 'integer', minimum: 10, default: 300 },
  // The smallest regression worth acting on: absolute points of error rate, and relative latency.
  min_error_rate_increase: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.02 },
  min_latency_increase: { type: 'number', exclusiveMinimum: 0, default: 0.2 },
  // The tail quantile compared (and whose increase is the tail test's effect).
  latency_quantile: { type: 'number', minimum: 0.5, maximum: 0.999, default: 0.95 },
  // The chance, per candidate, of a false `regressed` over all its looks and comparisons.
  alpha: { type: 'number', exclusiveMinimum: 0, maximum: 0.2, default: 0.01 },
  // Looks the alpha is split over; after the last, a candidate not regressed is healthy for good.
  max_looks: { type: 'integer', minimum: 1, maximum: 10000, default: 60 },
  // PoPs compared one by one (those with most candidate traffic), beside all PoPs together.
  max_pops: { type: 'integer', minimum: 0, maximum: 200, default: 20 },
  // Keep every trace of a suspect or regressed candidate, whatever tail_sampling says.
  evidence: section({ enabled: { type: 'boolean', default: false } }),
});

export function checkJudge(judge: { evaluation_interval: number; window: number }): void {
  if (judge.evaluation_interval <= 0) {
    throw new ConfigError('version_health.judge.evaluation_interval', 'must be more than 0');
  }
  if (judge.window < judge.evaluation_interval) {
    throw new ConfigError('version_health.judge.window', 'must be at least evaluation_interval');
  }
  if (judge.window / judge.evaluation_interval > MAX_WINDOWS) {
    throw new ConfigError(
      'version_health.judge.window',
      `is more than ${MAX_WINDOWS} evaluation intervals (the history kept per version)`,
    );
  }
}
