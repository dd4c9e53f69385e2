import { availableParallelism } from 'node:os';
import { duration } from '../config/schema-keywords.ts';

/** The Collector batch processor's settings, applied per worker shard. */
export interface BatchConfig {
  send_batch_size: number;
  /** 0 means no upper bound beyond send_batch_size. */
  send_batch_max_size: number;
  /** Milliseconds after which a non-empty batch is sent regardless of size. */
  timeout: number;
}

export interface WorkersConfig {
  /** Worker threads that hold, sample, encode and export spans; 0 means one per available CPU. */
  threads: number;
  /** Bytes of accepted beacons handed to the workers and not yet taken up; past it the receiver sheds load. */
  max_pending_bytes: number;
  /** Nice value of the worker threads (0–19): above 0, the ack thread wins the CPU when both want it. */
  nice: number;
}

export const batchSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    send_batch_size: { type: 'integer', minimum: 1, default: 8192 },
    send_batch_max_size: { type: 'integer', minimum: 0, default: 0 },
    timeout: duration('200ms'),
  },
} as const;

export const workersSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    threads: { type: 'integer', minimum: 0, maximum: 256, default: 0 },
    max_pending_bytes: { type: 'integer', minimum: 65536, default: 67108864 },
    nice: { type: 'integer', minimum: 0, maximum: 19, default: 10 },
  },
} as const;

/** workers.threads, else tail_sampling.num_shards (each thread is one shard), else one per CPU. */
export function resolveThreads(config: WorkersConfig, numShards = 0): number {
  return config.threads || numShards || availableParallelism();
}

/**
 * The Collector's `memory_limiter`, applied to the whole process: above `limit - spike` bytes of RSS
 * the receiver refuses new data (429) until memory falls back. Percentages are of the container's
 * memory limit (cgroup, or EDGE_RELAY_MEMORY_LIMIT) and apply when the `_mib` key is 0.
 */
export interface MemoryLimiterConfig {
  /** Milliseconds between memory checks; the ack path only reads the last result. */
  check_interval: number;
  limit_mib: number;
  spike_limit_mib: number;
  limit_percentage: number;
  spike_limit_percentage: number;
}

export const memoryLimiterSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    check_interval: duration('1s'),
    limit_mib: { type: 'integer', minimum: 0, default: 0 },
    spike_limit_mib: { type: 'integer', minimum: 0, default: 0 },
    limit_percentage: { type: 'integer', minimum: 1, maximum: 100, default: 80 },
    spike_limit_percentage: { type: 'integer', minimum: 0, maximum: 100, default: 20 },
  },
} as const;
