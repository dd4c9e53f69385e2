import { availableParallelism } from 'node:os';
import { type ConfigOf, component } from '../lib/component.ts';
import { section } from '../lib/schema-keywords.ts';

/**
 * The worker runtime: `threads` that hold, sample, encode and export spans (0: one per available CPU);
 * `max_pending_bytes` of accepted data handed to them and not yet taken up, past which the receiver
 * sheds load; their `nice` value (0–19: above 0, the ack thread wins the CPU when both want it).
 */
export const workersComponent = component({
  key: 'workers',
  schema: section({
    threads: { type: 'integer', minimum: 0, maximum: 256, default: 0 },
    max_pending_bytes: { type: 'integer', minimum: 65536, default: 67108864 },
    nice: { type: 'integer', minimum: 0, maximum: 19, default: 10 },
  }),
});
export type WorkersConfig = ConfigOf<typeof workersComponent.schema>;

/** workers.threads, else tail_sampling.num_shards (each thread is one shard), else one per CPU. */
export function resolveThreads(config: WorkersConfig, numShards = 0): number {
  return config.threads || numShards || availableParallelism();
}
