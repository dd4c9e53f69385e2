import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { sha256Hex } from '../lib/digest.ts';

// The audit log's record format, shared by the writer and `edge-relay audit verify`. One record per line:
//   {"seq":7,"time":"…","event":"config.reloaded",…fields…,"prev":"<hash of record 6>","hash":"<hash>"}
// `hash` is the SHA-256 of the line as it would read without its `,"hash":"…"` suffix, so a record is
// checked from its own bytes, with no re-serialisation that could differ between versions.

/** `prev` of the first record of a chain. */
export const GENESIS = '0'.repeat(64);

/** Keys the log sets itself; an event's fields cannot override them. */
export const RESERVED_KEYS = new Set(['seq', 'time', 'event', 'prev', 'hash']);

const SEAL = /,"hash":"([0-9a-f]{64})"\}$/;

/** A record's line and hash, from its JSON text (which must be an object, ending in `}`). */
export function seal(json: string): { line: string; hash: string } {
  const hash = sha256Hex(json);
  return { line: `${json.slice(0, -1)},"hash":"${hash}"}`, hash };
}

export interface OpenedRecord {
  seq: number;
  event: string;
  prev: string;
  hash: string;
}

/** A line that is not an intact record: why, and its seq if the line still says one. */
export interface BrokenLine {
  problem: string;
  seq: number | undefined;
}

const parse = (json: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(json);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

/** A record's seq from its opening bytes (every record begins `{"seq":N,`), whatever follows. */
function seqOf(line: string): number | undefined {
  const seq = Number(/^\{"seq":(\d{1,15}),/.exec(line)?.[1]);
  return Number.isSafeInteger(seq) && seq >= 1 ? seq : undefined;
}

/** Checks one line's seal: the record's chain fields, or what is wrong with the line. */
export function unseal(line: string): OpenedRecord | BrokenLine {
  const match = SEAL.exec(line);
  if (!match) {
    return { problem: 'not an audit record (no hash at the end of the line)', seq: seqOf(line) };
  }
  const json = `${line.slice(0, match.index)}}`;
  const hash = match[1] as string;
  const body = parse(json);
  const seq = seqOf(json);
  if (sha256Hex(json) !== hash) {
    return { problem: "the record's hash does not match its content: the line was edited", seq };
  }
  const { event, prev } = body ?? {};
  if (seq === undefined || typeof event !== 'string' || typeof prev !== 'string') {
    return { problem: 'the record has no seq, event or prev', seq };
  }
  return { seq, event, prev, hash };
}

export const isBroken = (record: OpenedRecord | BrokenLine): record is BrokenLine => 'problem' in record;

/** Rotated files are named by the seq of their first record, zero-padded so that names sort in order. */
export const rotatedName = (path: string, firstSeq: number): string =>
  `${path}.${String(firstSeq).padStart(12, '0')}`;

/** The rotated files of the log at `path`, oldest first. */
export function rotatedFiles(path: string): string[] {
  const base = basename(path);
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return [];
  }
  return names
    .filter((name) => name.startsWith(`${base}.`) && /^\d{12}$/.test(name.slice(base.length + 1)))
    .sort()
    .map((name) => join(dirname(path), name));
}
