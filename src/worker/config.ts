import { availableParallelism } from 'node:os';

export interface WorkersConfig {
  /** Worker threads that hold, sample, encode and export spans; 0 means one per available CPU. */
  threads: number;
  /** Bytes of accepted beacons handed to the workers and not yet taken up; past it the receiver sheds load. */
  max_pending_bytes: number;
  /** Nice value of the worker threads (0–19): above 0, the ack thread wins the CPU when both want it. */
  nice: number;
}

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
