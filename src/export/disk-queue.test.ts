import {
  closeSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GZIP_PROTO, PLAIN_PROTO } from '../../test/support/formats.ts';
import { DiskQueue } from './disk-queue.ts';
import { nodeStorageFs, type StorageFs } from './storage-fs.ts';

const tempDir = () => join(mkdtempSync(join(tmpdir(), 'disk-queue-')), 'shard-0');
const body = (n: number, fill: number) => new Uint8Array(n).fill(fill);

/**
 * `dir` as if it were a disk of `capacity` bytes: a write that does not fit is cut short (returns
 * fewer bytes), the next one fails with ENOSPC, as on a real full filesystem; removing files gives
 * their space back. `chunk` bounds what one write call takes, as a signal may.
 */
function smallDisk(dir: string, capacity: number, chunk = Number.POSITIVE_INFINITY): StorageFs {
  const used = () => readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
  return {
    open: nodeStorageFs.open,
    write(fd, data, offset) {
      const room = capacity - used();
      if (room <= 0)
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return writeSync(fd, data, offset, Math.min(room, chunk, data.length - offset));
    },
    close: closeSync,
    space: () => ({ free: Math.max(0, capacity - used()), blockSize: 1 }),
  };
}

describe('DiskQueue', () => {
  it('replays what was appended, oldest first, and forgets what was removed', () => {
    const dir = tempDir();
    const { queue } = DiskQueue.open(dir, 1 << 20);
    const a = queue.append(body(100, 1), 3, GZIP_PROTO);
    const b = queue.append(body(200, 2), 5, PLAIN_PROTO);
    queue.append(body(300, 3), 7, GZIP_PROTO);
    queue.remove(a as NonNullable<typeof a>);

    const reopened = DiskQueue.open(dir, 1 << 20);
    expect(reopened.corrupt).toEqual([]);
    expect(reopened.recovered.map((r) => [r.spans, r.format])).toEqual([
      [5, PLAIN_PROTO],
      [7, GZIP_PROTO],
    ]);
    expect(reopened.queue.read(reopened.recovered[0] as NonNullable<typeof b>)).toEqual(
      Buffer.from(body(200, 2)),
    );
    expect(reopened.queue.usedBytes).toBe(200 + 300 + 2 * 20);
    // New records go after the replayed ones.
    const c = reopened.queue.append(body(10, 4), 1, GZIP_PROTO);
    expect(c?.seq).toBeGreaterThan((reopened.recovered[1] as NonNullable<typeof c>).seq);
  });

  it('refuses a batch that would pass the byte bound', () => {
    const { queue } = DiskQueue.open(tempDir(), 1000);
    expect(queue.append(body(900, 1), 1, GZIP_PROTO)).toBeDefined();
    expect(queue.append(body(100, 1), 1, GZIP_PROTO)).toBeUndefined();
    expect(queue.usedBytes).toBe(920);
  });

  it('detects a torn write and a flipped bit, losing only those records', () => {
    const dir = tempDir();
    const { queue } = DiskQueue.open(dir, 1 << 20);
    for (let i = 0; i < 4; i++) queue.append(body(1000, i), 10 + i, GZIP_PROTO);
    const files = readdirSync(dir).sort();
    truncateSync(join(dir, files[1] as string), 500); // torn mid-body: header intact
    truncateSync(join(dir, files[2] as string), 7); // torn mid-header
    const flipped = readFileSync(join(dir, files[3] as string));
    flipped[600] = (flipped[600] as number) ^ 0xff;
    writeFileSync(join(dir, files[3] as string), flipped);

    const { queue: reopened, recovered, corrupt } = DiskQueue.open(dir, 1 << 20);
    expect(corrupt.map((c) => c.spans)).toEqual([11, 0]);
    expect(corrupt[0]?.problem).toMatch(/torn/);
    expect(recovered.map((r) => r.spans)).toEqual([10, 13]);
    expect(reopened.read(recovered[0] as NonNullable<(typeof recovered)[0]>)).toBeInstanceOf(Uint8Array);
    // The bit flip passes the size check and is caught by the checksum when read to be sent.
    expect(reopened.read(recovered[1] as NonNullable<(typeof recovered)[0]>)).toEqual({
      problem: 'checksum mismatch',
    });
    expect(readdirSync(dir)).toHaveLength(2);
  });

  it('adopts the records of a shard directory that no longer has a worker', () => {
    const root = mkdtempSync(join(tmpdir(), 'disk-queue-'));
    const old = DiskQueue.open(join(root, 'shard-3'), 1 << 20).queue;
    old.append(body(10, 1), 2, GZIP_PROTO);
    old.append(body(10, 2), 4, GZIP_PROTO);
    const mine = DiskQueue.open(join(root, 'shard-1'), 1 << 20).queue;
    mine.append(body(10, 3), 6, GZIP_PROTO);

    const { recovered } = DiskQueue.open(join(root, 'shard-1'), 1 << 20, [join(root, 'shard-3')]);
    expect(recovered.map((r) => r.spans)).toEqual([6, 2, 4]);
    expect(readdirSync(root)).toEqual(['shard-1']);
  });

  it('keeps the write-ahead-log segment of a batch, beside untagged ones of an older run', () => {
    const dir = tempDir();
    const { queue } = DiskQueue.open(dir, 1 << 20, [], true);
    queue.append(body(50, 1), 3, GZIP_PROTO);
    const tagged = queue.append(body(60, 2), 4, PLAIN_PROTO, 9);
    expect(tagged).toMatchObject({ segment: 9, bytes: 60 + 24 });
    const { queue: reopened, recovered, corrupt } = DiskQueue.open(dir, 1 << 20);
    expect(corrupt).toEqual([]);
    expect(recovered.map((r) => [r.spans, r.segment])).toEqual([
      [3, undefined],
      [4, 9],
    ]);
    expect(reopened.read(recovered[1] as NonNullable<(typeof recovered)[0]>)).toEqual(
      Buffer.from(body(60, 2)),
    );
    expect(reopened.usedBytes).toBe(50 + 20 + 60 + 24);
  });

  it('on a full disk, fails the write that is cut short, leaves no file, and is writable again once it fits', () => {
    const dir = tempDir();
    const { queue } = DiskQueue.open(dir, 1 << 20, [], false, smallDisk(dir, 1500));
    const first = queue.append(body(1000, 1), 3, GZIP_PROTO) as NonNullable<ReturnType<typeof queue.append>>;
    // 480 bytes fit: the record is cut short, then the disk is full.
    expect(() => queue.append(body(1000, 2), 5, GZIP_PROTO)).toThrow(/ENOSPC/);
    expect(readdirSync(dir)).toHaveLength(1);
    expect(queue.usedBytes).toBe(1020);
    expect(queue.writable()).toBe(false);
    expect(queue.writable()).toBe(false);

    queue.remove(first);
    expect(queue.writable()).toBe(true);
    expect(readdirSync(dir)).toEqual([]); // the probe is gone too
    const again = queue.append(body(1000, 3), 7, GZIP_PROTO) as NonNullable<ReturnType<typeof queue.append>>;
    expect(queue.read(again)).toEqual(Buffer.from(body(1000, 3)));
    expect(DiskQueue.open(dir, 1 << 20).corrupt).toEqual([]);
  });

  it('finishes a write that the system took in several parts', () => {
    const dir = tempDir();
    const { queue } = DiskQueue.open(dir, 1 << 20, [], false, smallDisk(dir, 1 << 20, 300));
    const batch = queue.append(body(1000, 9), 2, PLAIN_PROTO) as NonNullable<ReturnType<typeof queue.append>>;
    expect(queue.read(batch)).toEqual(Buffer.from(body(1000, 9)));
    expect(queue.writable()).toBe(true);
  });
});
