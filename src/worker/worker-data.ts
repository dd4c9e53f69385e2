import type { BatchConfig } from '../batch/config.ts';
import type { EnrichmentConfig } from '../enrich/config.ts';
import type { DebugExporterConfig, ExporterConfig } from '../export/config.ts';
import type { VersionHealthConfig } from '../health/config.ts';
import type { ClusterConfig } from '../route/config.ts';
import type { SamplingSetup } from '../sample/sampling-setup.ts';
import type { LogLevel } from '../telemetry/config.ts';

/** The sections of the configuration the stages in a worker shard run on, each handed to its own stage. */
export interface WorkerSections {
  log_level: LogLevel;
  /** workers.nice */
  nice: number;
  /** memory_limiter.check_interval: how often the shard refreshes what admission control reads. */
  check_interval: number;
  enrichment: EnrichmentConfig;
  /** Absent: no RED metrics. */
  version_health: VersionHealthConfig | undefined;
  cluster: ClusterConfig;
  batch: BatchConfig;
  exporter: ExporterConfig;
  debug: DebugExporterConfig;
  /**
   * The bearer token this replica presents to its peers: peers check the same receiver.auth tokens,
   * so the wiring passes the first one explicitly rather than the route stage reading receiver's section.
   */
  peer_token: string | undefined;
  /**
   * receiver.auth.identity_attribute: the resource attribute enrichment sets to the sender's identity
   * ("" for none). The receiver decides identities; the wiring passes the attribute's name explicitly.
   */
  identity_attribute: string;
}

/** What each worker shard starts with (the `workerData` of its thread). */
export interface WorkerData {
  shard: number;
  /** How many shards there are in all (for dividing shared budgets such as queue storage). */
  shards: number;
  sections: WorkerSections;
  metrics: SharedArrayBuffer;
  sampling: SamplingSetup | undefined;
  samplingMetrics: SharedArrayBuffer;
  /** With the write-ahead log on (receiver.durability: wal): what the workers need of it. */
  wal: WorkerWal | undefined;
}

export interface WorkerWal {
  /** Settled spans per log segment (telemetry/settled-segments.ts), which the log deletes by. */
  settled: SharedArrayBuffer;
  /** Segments the log replays at this start (their batches in the persistent queue are superseded). */
  replayed: number[];
}
