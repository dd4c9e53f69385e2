import { readdirSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';

/** Spans in the persistent queue under `storage`, read from the record headers (span count at byte 8). */
export function spansOnDisk(storage: string): number {
  let spans = 0;
  for (const shard of safeList(storage)) {
    for (const file of safeList(join(storage, shard))) {
      const bytes = readSafe(join(storage, shard, file));
      if (bytes.length >= 12) spans += bytes.readUInt32BE(8);
    }
  }
  return spans;
}

/** Cuts the newest record of the first non-empty shard in half, as a crash mid-write would; returns its span count. */
export function tearOneRecord(storage: string): { file: string; spans: number } {
  for (const shard of safeList(storage)) {
    const newest = safeList(join(storage, shard)).sort().at(-1);
    if (newest === undefined) continue;
    const file = join(storage, shard, newest);
    const bytes = readFileSync(file);
    truncateSync(file, Math.floor(bytes.length / 2));
    return { file, spans: bytes.readUInt32BE(8) };
  }
  throw new Error(`no record under ${storage}`);
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** A record removed while the directory is read (delivered, or a failed write cleaned up) holds nothing. */
function readSafe(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch {
    return Buffer.alloc(0);
  }
}
