import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Spans in the persistent queue under `storage`, read from the record headers (span count at byte 8). */
export function spansOnDisk(storage: string): number {
  let spans = 0;
  for (const shard of safeList(storage)) {
    for (const file of safeList(join(storage, shard))) {
      const bytes = readFileSync(join(storage, shard, file));
      if (bytes.length >= 12) spans += bytes.readUInt32BE(8);
    }
  }
  return spans;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
