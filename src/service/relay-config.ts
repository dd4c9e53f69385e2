import type { BatchConfig } from '../batch/config.ts';
import type { EnrichmentConfig } from '../enrich/config.ts';
import type { DebugExporterConfig, ExporterConfig } from '../export/config.ts';
import type { VersionHealthConfig } from '../health/config.ts';
import type { MemoryLimiterConfig, ReceiverConfig } from '../receive/config.ts';
import type { ClusterConfig } from '../route/config.ts';
import type { TailSamplingConfig } from '../sample/config.ts';
import type { AdminConfig, LogConfig } from '../telemetry/config.ts';
import type { WorkersConfig } from '../worker/config.ts';

/** The validated configuration with every default filled in and every duration in milliseconds. */
export interface RelayConfig {
  receiver: ReceiverConfig;
  admin: AdminConfig;
  log: LogConfig;
  enrichment: EnrichmentConfig;
  workers: WorkersConfig;
  memory_limiter: MemoryLimiterConfig;
  /** Absent: no RED metrics are counted. */
  version_health?: VersionHealthConfig;
  /** Absent: every span is kept. */
  tail_sampling?: TailSamplingConfig;
  batch: BatchConfig;
  exporter: ExporterConfig;
  debug: DebugExporterConfig;
  cluster: ClusterConfig;
  shutdown_timeout: number;
}
