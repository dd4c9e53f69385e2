import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SendingQueueConfig } from './config.ts';
import { type CorruptRecord, DiskQueue, type StoredBatch } from './disk-queue.ts';
import { nodeStorageFs, type StorageFs } from './storage-fs.ts';

/** An encoded export batch, held in memory or on disk until it is delivered or dropped. */
export interface QueuedBatch {
  readonly spans: number;
  /** How the body is encoded and compressed, as flags (export/body-format.ts). */
  readonly format: number;
  /** The write-ahead-log segment all its spans were logged in (the exporter splits batches by segment). */
  readonly segment?: number | undefined;
}

/** What the persistent store needs from the write-ahead log (receive/wal/), when it is on. */
export interface WalStorage {
  /** Segments the log replays at this start: batches of theirs are superseded by the replay. */
  readonly replayed: ReadonlySet<number>;
}

/**
 * Where queued batches wait: the bound of the sending queue. The memory store counts batches
 * (`queue_size` waiting plus those being sent); the disk store counts bytes and survives restarts.
 */
export interface BatchStore<B extends QueuedBatch = QueuedBatch> {
  readonly persistent: boolean;
  /** Takes a batch; undefined when the store is full. Throws on an I/O error. */
  put(body: Uint8Array, spans: number, format: number, segment?: number): B | undefined;
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
  /**
   * Spans of batches left by a previous run that were removed unread because the write-ahead log
   * replays the segment they came from: counting them again would count them twice.
   */
  readonly superseded: number;
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

/** Batches one shard's memory store holds: those waiting (`queue_size`) and those being sent. */
export const memoryQueueCapacity = (config: SendingQueueConfig): number =>
  (config.enabled ? config.queue_size : 0) + config.num_consumers;

export function memoryBatchStore(config: SendingQueueConfig): BatchStore<MemoryBatch> {
  const capacity = memoryQueueCapacity(config);
  let held = 0;
  let heldSpans = 0;
  return {
    persistent: false,
    put(body, spans, format, segment) {
      if (held >= capacity) return undefined;
      held++;
      heldSpans += spans;
      return { body, spans, format, segment };
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
    superseded: 0,
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
  wal?: WalStorage,
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
    wal !== undefined,
    fs,
  );
  const replayed = (record: { segment?: number | undefined }) =>
    record.segment !== undefined && wal?.replayed.has(record.segment) === true;
  let superseded = 0;
  for (const batch of recovered.filter(replayed)) {
    superseded += batch.spans;
    queue.remove(batch);
  }
  // A torn record is removed by DiskQueue.open already; one whose segment is replayed is not lost.
  for (const record of corrupt.filter(replayed)) superseded += record.spans;
  return {
    persistent: true,
    put: (body, spans, format, segment) => queue.append(body, spans, format, segment),
    load: (batch) => queue.read(batch),
    release: (batch) => queue.remove(batch),
    // The larger of the fill of its share and of what the filesystem can give it (what its files take,
    // in whole blocks, plus an equal share of the free space): shedding starts before the disk is full.
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
    recovered: recovered.filter((batch) => !replayed(batch)),
    corrupt: corrupt.filter((record) => !replayed(record)),
    superseded,
  };
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function createBatchStore(
  config: SendingQueueConfig,
  shard: number,
  threads: number,
  wal?: WalStorage,
): BatchStore {
  return config.storage === '' ? memoryBatchStore(config) : diskBatchStore(config, shard, threads, wal);
}
