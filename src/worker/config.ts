import { availableParallelism } from 'node:os';
import { type ConfigOf, component } from '../lib/component.ts';
import { section } from '../lib/schema-keywords.ts';
import type { ReceiverConfig } from '../receive/config.ts';

/**
 * The worker runtime: `threads` that hold, sample, encode and export spans (0: one per available CPU);
 * `max_pending_bytes` of accepted data handed to them and not yet taken up, past which the receiver
 * sheds load; their `nice` value (0–19: above 0, the ack thread wins the CPU when both want it).
 *
 * `nice` 5 by default: the shards must keep up with what the ack thread takes, or the hand-off fills
 * and the ack thread spends the core answering 429s while the shards starve further. Measured with all
 * of the relay on one core (keep-all, one shard, closed-loop load), three alternating rounds: nice 10
 * acknowledged 11.4k/12.4k/11.6k beacons/s and refused 88k–180k requests per 10 s; nice 5 19.1k/18.4k/
 * 13.1k, refusing 0–28k; nice 0 13.7k/14.4k/10.7k, refusing none. Ack p99 at 5,000 beacons/s: nice 10
 * 6.6–8.0 ms, nice 5 5.9–10.3 ms, nice 0 9.3–14.0 ms.
 */
export const workersComponent = component({
  key: 'workers',
  schema: section({
    threads: { type: 'integer', minimum: 0, maximum: 256, default: 0 },
    max_pending_bytes: { type: 'integer', minimum: 65536, default: 67108864 },
    nice: { type: 'integer', minimum: 0, maximum: 19, default: 5 },
  }),
});
export type WorkersConfig = ConfigOf<typeof workersComponent.schema>;

/** workers.threads, else tail_sampling.num_shards (each thread is one shard), else one per CPU. */
export function resolveThreads(config: WorkersConfig, numShards = 0): number {
  return config.threads || numShards || availableParallelism();
}

/**
 * The CPUs the process may use: EDGE_RELAY_CPU_LIMIT when set (the Helm chart sets it to the container's
 * CPU limit in whole cores; a container may run on every core of its node yet be allowed a few), else
 * the CPUs it may run on.
 */
export function cpusAvailable(env: NodeJS.ProcessEnv = process.env): number {
  const limit = Number(env.EDGE_RELAY_CPU_LIMIT);
  return Number.isInteger(limit) && limit > 0 ? limit : availableParallelism();
}

/**
 * receiver.threads, else half the CPUs (at least one). Receiving is about half of a beacon's CPU, so
 * half the cores acknowledge and the shards get the rest: receivers beyond that run at normal priority
 * over shards at `workers.nice`, starve them, and the hand-off bound then refuses what they accept.
 * Measured on the 2-core project machine (relay unpinned, 2 shards, load generator on the same cores):
 * one receiver 21–24k beacons/s acknowledged, none refused; two 19–22k, with 12–22% of requests
 * refused (429) while the shards caught up.
 * One with the write-ahead log: its group commit, segment table and replay live on the acking thread.
 */
export function resolveReceiverThreads(
  receiver: Pick<ReceiverConfig, 'threads' | 'durability'>,
  cpus = cpusAvailable(),
): number {
  if (receiver.threads > 0) return receiver.threads;
  if (receiver.durability === 'wal') return 1;
  return Math.max(1, Math.round(cpus / 2));
}
