import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SendingQueueConfig } from './config.ts';
import { type CorruptRecord, DiskQueue, type StoredBatch } from './disk-queue.ts';

/** An encoded export batch, held in memory or on disk until it is delivered or dropped. */
export interface QueuedBatch {
  readonly spans: number;
  /** How the body is encoded and compressed, as flags (export/body-format.ts). */
  readonly format: number;
}

/**
 * Where queued batches wait: the bound of the sending queue. The memory store counts batches
 * (`queue_size` waiting plus those being sent); the disk store counts bytes and survives restarts.
 */
export interface BatchStore<B extends QueuedBatch = QueuedBatch> {
  readonly persistent: boolean;
  /** Takes a batch; undefined when the store is full. Throws on an I/O error. */
  put(body: Uint8Array, spans: number, format: number): B | undefined;
  load(batch: B): Uint8Array | { problem: string };
  release(batch: B): void;
  /** How full the store is, 0 to 1: what admission control sheds on. */
  fill(): number;
  /** Batches left by a previous run, oldest first, and the records that could not be read back. */
  readonly recovered: readonly B[];
  readonly corrupt: readonly CorruptRecord[];
}

interface MemoryBatch extends QueuedBatch {
  readonly body: Uint8Array;
}

/** Batches one shard's memory store holds: those waiting (`queue_size`) and those being sent. */
export const memoryQueueCapacity = (config: SendingQueueConfig): number =>
  (config.enabled ? config.queue_size : 0) + config.num_consumers;

export function memoryBatchStore(config: SendingQueueConfig): BatchStore<MemoryBatch> {
  const capacity = memoryQueueCapacity(config);
  let held = 0;
  return {
    persistent: false,
    put(body, spans, format) {
      if (held >= capacity) return undefined;
      held++;
      return { body, spans, format };
    },
    load: (batch) => batch.body,
    release() {
      held--;
    },
    fill: () => held / capacity,
    recovered: [],
    corrupt: [],
  };
}

const SHARD_DIR = /^shard-(\d+)$/;

/**
 * The persistent store of one shard: `<storage>/shard-<n>`, with an equal share of `storage_max_bytes`.
 * Directories of shards that no longer exist (the thread count went down) are adopted by shard
 * `k % threads`, so nothing left on disk is stranded.
 */
export function diskBatchStore(
  config: SendingQueueConfig,
  shard: number,
  threads: number,
): BatchStore<StoredBatch> {
  const orphans = readdirSafe(config.storage)
    .map((name) => Number(SHARD_DIR.exec(name)?.[1] ?? -1))
    .filter((k) => k >= threads && k % threads === shard)
    .map((k) => join(config.storage, `shard-${k}`));
  const { queue, recovered, corrupt } = DiskQueue.open(
    join(config.storage, `shard-${shard}`),
    Math.floor(config.storage_max_bytes / threads),
    orphans,
  );
  return {
    persistent: true,
    put: (body, spans, format) => queue.append(body, spans, format),
    load: (batch) => queue.read(batch),
    release: (batch) => queue.remove(batch),
    fill: () => queue.usedBytes / queue.maxBytes,
    recovered,
    corrupt,
  };
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function createBatchStore(config: SendingQueueConfig, shard: number, threads: number): BatchStore {
  return config.storage === '' ? memoryBatchStore(config) : diskBatchStore(config, shard, threads);
}
