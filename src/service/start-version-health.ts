import { missingExporterSetting } from '../export/config.ts';
import { MergedHealth } from '../health/merged-health.ts';
import { type MetricsPush, startMetricsPush } from '../health/otlp-push.ts';
import { versionHealthExposition } from '../health/prometheus.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { RelayMetrics } from '../telemetry/metrics.ts';
import type { RelayConfig } from './relay-schema.ts';

/** Version health on the main thread: merges the shards' snapshots, serves them, pushes them if configured. */
export function startVersionHealth(
  config: RelayConfig,
  metrics: RelayMetrics,
  log: Logger,
): { merged: MergedHealth; push: MetricsPush | undefined } | undefined {
  const health = config.version_health;
  if (!health) return undefined;
  const merged = new MergedHealth(health);
  metrics.expositions.push(versionHealthExposition(merged, health));
  const missing = missingExporterSetting(config.exporter, 'metrics_endpoint');
  if (missing !== undefined) {
    log.info(
      { missing },
      `version health metrics are served on /metrics; ${missing} is empty, so none are pushed`,
    );
    return { merged, push: undefined };
  }
  log.info(
    { endpoint: config.exporter.metrics_endpoint },
    'pushing version health metrics as OTLP/HTTP protobuf',
  );
  return { merged, push: startMetricsPush(merged, health, config.exporter, log) };
}
