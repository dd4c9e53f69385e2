import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Beacon } from '../../src/model/beacon.ts';

/** The example beacon of docs/beacon.md (its first json block). */
export function docsBeacon(): Beacon {
  const doc = readFileSync(new URL('../../docs/beacon.md', import.meta.url), 'utf8');
  const block = /```json\n([\s\S]*?)\n```/.exec(doc);
  if (!block) throw new Error('docs/beacon.md has no json block');
  return JSON.parse(block[1] as string) as Beacon;
}

export const randomTraceId = (): string => randomBytes(16).toString('hex');
export const randomSpanId = (): string => randomBytes(8).toString('hex');

/** The docs beacon under a fresh trace id (span ids kept: they only need to be unique within a trace). */
export function beaconWithTrace(traceId = randomTraceId(), changes: Partial<Beacon> = {}): Beacon {
  return { ...docsBeacon(), traceId, ...changes };
}
