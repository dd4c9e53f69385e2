import { readFileSync } from 'node:fs';
import type { Beacon } from '../../src/model/beacon.ts';

// docs/beacon.md's first ```json block is the format's reference example and the only copy of it: tests,
// the fuzz corpus, the bench and the README's quick start all read it from there.

/** The example beacon of docs/beacon.md as written there (the text of its first json block). */
export function docsBeaconText(): string {
  const doc = readFileSync(new URL('../../docs/beacon.md', import.meta.url), 'utf8');
  const block = /^```json\n([\s\S]*?)\n```$/m.exec(doc);
  if (!block) throw new Error('docs/beacon.md has no json block');
  return block[1] as string;
}

/** The example beacon of docs/beacon.md, parsed. */
export const docsBeacon = (): Beacon => JSON.parse(docsBeaconText()) as Beacon;
