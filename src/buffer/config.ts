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
  },
} as const;

/** workers.threads, else tail_sampling.num_shards (each thread is one shard), else one per CPU. */
export function resolveThreads(config: WorkersConfig, numShards = 0): number {
  return config.threads || numShards || availableParallelism();
}
