import { ConfigError } from '../../lib/errors.ts';
import { duration } from '../../lib/schema-keywords.ts';

/**
 * `receiver.durability`: `none` acknowledges a request once it is handed to the workers (in memory);
 * `wal` acknowledges it once it is in the write-ahead log on disk, flushed with fsync.
 */
export type Durability = 'none' | 'wal';

/** `receiver.wal`: where and how the write-ahead log keeps accepted requests until their spans settle. */
export interface WalConfig {
  /** Directory of the log's segment files; required with `durability: wal`. One relay per directory. */
  directory: string;
  /** Milliseconds: at most one fsync per interval; a request waits for the commit under way, then its own. */
  commit_interval: number;
  /** A segment is closed (and can be deleted once settled) at this size in bytes… */
  segment_max_bytes: number;
  /** …or this many milliseconds after it was opened, so that a quiet relay frees its disk too. */
  segment_max_age: number;
  /** Bytes the log may hold on disk; above it the receiver refuses new data with 429. */
  max_bytes: number;
}

export const durabilitySchema = { enum: ['none', 'wal'], default: 'none' } as const;

export const walSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    directory: { type: 'string', default: '' },
    commit_interval: duration('2ms'),
    segment_max_bytes: { type: 'integer', minimum: 65536, maximum: 1073741824, default: 16777216 },
    segment_max_age: duration('1s'),
    max_bytes: { type: 'integer', minimum: 1048576, default: 1073741824 },
  },
} as const;

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
