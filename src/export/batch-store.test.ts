import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GZIP_PROTO } from '../../test/support/formats.ts';
import { resolveConfig } from '../service/load-config.ts';
import { diskBatchStore, memoryBatchStore } from './batch-store.ts';
import { nodeStorageFs, type StorageFs } from './storage-fs.ts';

const queueConfig = (sending_queue: Record<string, unknown>) =>
  resolveConfig({ exporter: { sending_queue } }).exporter.sending_queue;
const body = new Uint8Array(1000);

describe('memoryBatchStore', () => {
  it('holds queue_size waiting batches plus one per sender, and reports how full it is', () => {
    const store = memoryBatchStore(queueConfig({ queue_size: 2, num_consumers: 2 }));
    const held = [1, 2, 3, 4].map((spans) => store.put(body, spans, GZIP_PROTO));
    expect(held.every((batch) => batch !== undefined)).toBe(true);
    expect(store.fill()).toBe(1);
    expect(store.put(body, 5, GZIP_PROTO)).toBeUndefined();
    store.release(held[0] as NonNullable<(typeof held)[0]>);
    expect(store.fill()).toBe(0.75);
  });

  it('without a queue (enabled: false), holds only what the senders take', () => {
    const store = memoryBatchStore(queueConfig({ enabled: false, num_consumers: 1 }));
    expect(store.put(body, 1, GZIP_PROTO)).toBeDefined();
    expect(store.put(body, 1, GZIP_PROTO)).toBeUndefined();
  });
});

describe('diskBatchStore', () => {
  it('gives each shard its directory and share of storage_max_bytes, and adopts orphaned shards', () => {
    const storage = join(mkdtempSync(join(tmpdir(), 'batch-store-')), 'queue');
    const config = queueConfig({ storage, storage_max_bytes: 4 * 1024 * 1024 });
    // A run with four workers leaves a batch in shard 3.
    expect(diskBatchStore(config, 3, 4).put(body, 7, GZIP_PROTO)).toBeDefined();
    // The next run has two: shard 1 (3 % 2) replays it.
    const store = diskBatchStore(config, 1, 2);
    expect(store.recovered.map((batch) => batch.spans)).toEqual([7]);
    expect(readdirSync(storage).sort()).toEqual(['shard-1']);
    expect(store.fill()).toBeCloseTo(1020 / (2 * 1024 * 1024));
    expect(store.put(new Uint8Array(2 * 1024 * 1024), 1, GZIP_PROTO)).toBeUndefined();
  });

  it('removes unread the batches of segments the write-ahead log replays, and says how many spans', () => {
    const storage = join(mkdtempSync(join(tmpdir(), 'batch-store-')), 'queue');
    const config = queueConfig({ storage });
    const before = diskBatchStore(config, 0, 1, { replayed: new Set() });
    before.put(body, 3, GZIP_PROTO, 4);
    before.put(body, 5, GZIP_PROTO, 5);
    before.put(body, 7, GZIP_PROTO);
    const store = diskBatchStore(config, 0, 1, { replayed: new Set([5]) });
    expect(store.superseded).toBe(5);
    expect(store.recovered.map((batch) => [batch.spans, batch.segment])).toEqual([
      [3, 4],
      [7, undefined],
    ]);
    expect(readdirSync(join(storage, 'shard-0'))).toHaveLength(2);
  });

  it('counts its files in whole blocks against its share of the free space, so it is full before the disk is', () => {
    const storage = join(mkdtempSync(join(tmpdir(), 'batch-store-')), 'queue');
    let free = 16 * 1024;
    const fs: StorageFs = { ...nodeStorageFs, space: () => ({ free, blockSize: 4096 }) };
    const store = diskBatchStore(queueConfig({ storage }), 0, 2, undefined, fs);
    expect(store.fill()).toBe(0);
    store.put(body, 3, GZIP_PROTO);
    // One block of 4 KiB taken, half of the 16 KiB free is this shard's.
    expect(store.fill()).toBeCloseTo(4096 / (4096 + 8192));
    expect(store.usage()).toEqual({ spans: 3, bytes: 4096, freeBytes: 8192 });
    free = 0;
    expect(store.fill()).toBe(1);
    expect(store.usage().freeBytes).toBe(0);
  });
});
