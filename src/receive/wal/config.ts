import type { ConfigOf } from '../../lib/component.ts';
import { ConfigError } from '../../lib/errors.ts';
import { duration, section } from '../../lib/schema-keywords.ts';

/**
 * `receiver.durability`: `none` acknowledges a request once it is handed to the workers (in memory);
 * `wal` acknowledges it once it is in the write-ahead log on disk, flushed with fsync.
 */
export const durabilitySchema = { enum: ['none', 'wal'], default: 'none' } as const;
export type Durability = ConfigOf<typeof durabilitySchema>;

/** `receiver.wal`: where and how the write-ahead log keeps accepted requests until their spans settle. */
export const walSchema = section({
  // One relay per directory; required with `durability: wal`.
  directory: { type: 'string', default: '' },
  // At most one fsync per interval; a request waits for the commit under way, then its own.
  commit_interval: duration('2ms'),
  // A segment is closed (and can be deleted once settled) at this size in bytes…
  segment_max_bytes: { type: 'integer', minimum: 65536, maximum: 1073741824, default: 16777216 },
  // …or this long after it was opened, so that a quiet relay frees its disk too.
  segment_max_age: duration('1s'),
  // Bytes the log may hold on disk; above it the receiver refuses new data with 429.
  max_bytes: { type: 'integer', minimum: 1048576, default: 1073741824 },
});
export type WalConfig = ConfigOf<typeof walSchema>;

/** The log needs a directory, and room for more than one segment. */
export function checkWal(durability: Durability, wal: WalConfig): void {
  if (durability !== 'wal') return;
  if (wal.directory === '') {
    throw new ConfigError('receiver.wal.directory', 'is required with receiver.durability: wal');
  }
  if (wal.max_bytes < 2 * wal.segment_max_bytes) {
    throw new ConfigError('receiver.wal.max_bytes', 'must be at least twice receiver.wal.segment_max_bytes');
  }
}
