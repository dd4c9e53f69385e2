import type { RelayConfig } from '../config/relay-config.ts';
import type { SamplingSetup } from '../sample/sampling-setup.ts';

// Messages between the ingest thread and its worker shards. Ingest is handed off as one JSON text per
// flush (a string copies far cheaper than an object graph is cloned), which the worker parses once.

/** One accepted beacon inside a hand-off: the peer address and the beacon exactly as validated. */
export interface HandoffItem {
  ip: string;
  b: unknown;
}

export interface WorkerData {
  shard: number;
  config: RelayConfig;
  metrics: SharedArrayBuffer;
  sampling: SamplingSetup | undefined;
  samplingMetrics: SharedArrayBuffer;
}

export type ToWorker =
  | { type: 'beacons'; text: string; bytes: number }
  | { type: 'drain'; deadline: number }
  /** New tail sampling policies after a config reload; undefined keeps every span. */
  | { type: 'reconfigure'; sampling: SamplingSetup | undefined };

export type FromWorker = { type: 'ready' } | { type: 'drained' };
