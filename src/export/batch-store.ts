import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SendingQueueConfig } from './config.ts';
import { type CorruptRecord, DiskQueue, type StoredBatch } from './disk-queue.ts';
import { nodeStorageFs, type StorageFs } from './storage-fs.ts';

/** An encoded export batch, held in memory or on disk until it is delivered or dropped. */
export interface QueuedBatch {
  readonly spans: number;
  readonly gzip: boolean;
}

/**
 * Where queued batches wait: the bound of the sending queue. The memory store counts batches
 * (`queue_size` waiting plus those being sent); the disk store counts bytes and survives restarts.
 */
export interface BatchStore<B extends QueuedBatch = QueuedBatch> {
  readonly persistent: boolean;
  /** Takes a batch; undefined when the store is full. Throws on an I/O error. */
  put(body: Uint8Array, spans: number, gzip: boolean): B | undefined;
  load(batch: B): Uint8Array | { problem: string };
  release(batch: B): void;
  /** How full the store is, 0 to 1: what admission control sheds on. */
  fill(): number;
  /** What it holds (waiting or being sent) and, on disk, how much more it can take. */
  usage(): StoreUsage;
  /**
   * False from a failed write (a full disk) until a write of that size would succeed again: while
   * it is false admission control refuses new data. Checked again on each call while false.
   */
  writable(): boolean;
  /** Batches left by a previous run, oldest first, and the records that could not be read back. */
  readonly recovered: readonly B[];
  readonly corrupt: readonly CorruptRecord[];
}

export interface StoreUsage {
  spans: number;
  /** Bytes its batches take on disk (whole blocks); 0 in memory, where batches are counted, not bytes. */
  bytes: number;
  /** Bytes it can still take on disk: the smaller of its share's rest and of the filesystem's free space. */
  freeBytes: number;
}

interface MemoryBatch extends QueuedBatch {
  readonly body: Uint8Array;
}

export function memoryBatchStore(config: SendingQueueConfig): BatchStore<MemoryBatch> {
  const capacity = (config.enabled ? config.queue_size : 0) + config.num_consumers;
  let held = 0;
  let heldSpans = 0;
  return {
    persistent: false,
    put(body, spans, gzip) {
      if (held >= capacity) return undefined;
      held++;
      heldSpans += spans;
      return { body, spans, gzip };
    },
    load: (batch) => batch.body,
    release(batch) {
      held--;
      heldSpans -= batch.spans;
    },
    fill: () => held / capacity,
    usage: () => ({ spans: heldSpans, bytes: 0, freeBytes: 0 }),
    writable: () => true,
    recovered: [],
    corrupt: [],
  };
}

const SHARD_DIR = /^shard-(\d+)$/;

/**
 * The persistent store of one shard: `<storage>/shard-<n>`, with an equal share of `storage_max_bytes`.
 * Directories of shards that no longer exist (the thread count went down) are adopted by shard
 * `k % threads`, so nothing left on disk is stranded. Its fill is the larger of the fill of its share
 * and of what the filesystem can give it (what its files take, in whole blocks, plus an equal share
 * of the free space), so that shedding starts before the disk is full, not once writes fail.
 */
export function diskBatchStore(
  config: SendingQueueConfig,
  shard: number,
  threads: number,
  fs: StorageFs = nodeStorageFs,
): BatchStore<StoredBatch> {
  const orphans = readdirSafe(config.storage)
    .map((name) => Number(SHARD_DIR.exec(name)?.[1] ?? -1))
    .filter((k) => k >= threads && k % threads === shard)
    .map((k) => join(config.storage, `shard-${k}`));
  const { queue, recovered, corrupt } = DiskQueue.open(
    join(config.storage, `shard-${shard}`),
    Math.floor(config.storage_max_bytes / threads),
    orphans,
    fs,
  );
  return {
    persistent: true,
    put: (body, spans, gzip) => queue.append(body, spans, gzip),
    load: (batch) => queue.read(batch),
    release: (batch) => queue.remove(batch),
    fill() {
      const ofShare = queue.usedBytes / queue.maxBytes;
      const onDisk = queue.diskBytes + queue.freeBytes / threads;
      return Math.min(1, Math.max(ofShare, onDisk > 0 ? queue.diskBytes / onDisk : 1));
    },
    usage: () => ({
      spans: queue.spans,
      bytes: queue.diskBytes,
      freeBytes: Math.max(0, Math.min(queue.maxBytes - queue.usedBytes, queue.freeBytes / threads)),
    }),
    writable: () => queue.writable(),
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
