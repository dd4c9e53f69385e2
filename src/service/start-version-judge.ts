import type { MergedHealth } from '../health/merged-health.ts';
import { registerVerdictGauge } from '../judge/verdict-metrics.ts';
import { VersionJudge } from '../judge/version-judge.ts';
import type { AuditSink } from '../telemetry/audit-log.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { RelayMetrics } from '../telemetry/metrics.ts';
import type { ShardPool } from '../worker/shard-pool.ts';
import type { RelayConfig } from './relay-schema.ts';

export interface RunningJudge {
  readonly judge: VersionJudge;
  stop(): void;
}

/**
 * The version judge on the main thread: one look per evaluation_interval over the merged version-health
 * series; its verdicts on /metrics, and its evidence list posted to the shards' samplers.
 */
export function startVersionJudge(
  config: RelayConfig,
  merged: MergedHealth | undefined,
  deps: { metrics: RelayMetrics; pool: ShardPool; audit: AuditSink; log: Logger },
): RunningJudge | undefined {
  const health = config.version_health;
  if (!health?.judge.enabled || !merged) return undefined;
  const judge = new VersionJudge(health, {
    audit: deps.audit,
    log: deps.log,
    evidence: (versions) => deps.pool.broadcast({ type: 'evidence', versions }),
  });
  registerVerdictGauge(deps.metrics.registry, judge);
  const timer = setInterval(
    () => judge.evaluate(merged.series, Date.now()),
    health.judge.evaluation_interval,
  );
  timer.unref();
  deps.log.info(
    { evaluation_interval: health.judge.evaluation_interval, evidence: health.judge.evidence.enabled },
    'judging new EdgeWorker versions against their baselines',
  );
  return { judge, stop: () => clearInterval(timer) };
}
