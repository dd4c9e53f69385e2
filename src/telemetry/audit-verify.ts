import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { GENESIS, isBroken, type OpenedRecord, rotatedFiles, unseal } from './audit-record.ts';

export interface BrokenRecord {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  /** The record's own seq when it could be read. */
  seq: number | undefined;
  problem: string;
}

export interface Verification {
  /** The files checked, oldest first. */
  files: string[];
  records: number;
  firstSeq: number | undefined;
  lastSeq: number | undefined;
  /** Chains begun (seq 1 from the genesis hash): one per file log, one per run on stdout. */
  chains: number;
  broken: BrokenRecord | undefined;
}

/**
 * Checks an audit log as one hash chain: every record's own hash, its seq one more than the last, its
 * prev the last record's hash. `path` is the live file; its rotated files (`path.<seq>`) are checked first,
 * oldest first, so one call covers everything still on disk. The oldest record may follow records that
 * rotation deleted: its prev cannot be checked, only everything after it. Stops at the first broken record.
 */
export async function verifyAuditLog(path: string): Promise<Verification> {
  const files = [...rotatedFiles(path), ...(existsSync(path) ? [path] : [])];
  const result: Verification = {
    files,
    records: 0,
    firstSeq: undefined,
    lastSeq: undefined,
    chains: 0,
    broken: undefined,
  };
  let prev: string | undefined;
  for (const file of files) {
    let line = 0;
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    for await (const text of lines) {
      line++;
      const record = unseal(text);
      const problem = isBroken(record) ? record.problem : chainProblem(record, prev, result.lastSeq);
      if (problem !== undefined) {
        result.broken = { file, line, seq: record.seq, problem };
        lines.close();
        return result;
      }
      const opened = record as OpenedRecord;
      if (opened.prev === GENESIS) result.chains++;
      result.firstSeq ??= opened.seq;
      result.lastSeq = opened.seq;
      prev = opened.hash;
      result.records++;
    }
  }
  return result;
}

/** What breaks the chain at `record`, given the hash and seq of the record before it (none: the first). */
function chainProblem(
  record: OpenedRecord,
  prev: string | undefined,
  lastSeq: number | undefined,
): string | undefined {
  // A chain begins at seq 1 from the genesis hash: a new file log, or each run's records on stdout.
  if (record.seq === 1 || record.prev === GENESIS) {
    return record.seq === 1 && record.prev === GENESIS ? undefined : 'seq 1 and the genesis prev go together';
  }
  // The oldest record left after rotation deleted older files: nothing to check it against.
  if (prev === undefined || lastSeq === undefined) return undefined;
  if (record.seq > lastSeq + 1)
    return `seq ${record.seq} follows seq ${lastSeq}: records in between were removed`;
  if (record.seq <= lastSeq)
    return `seq ${record.seq} follows seq ${lastSeq}: a record was repeated or moved`;
  if (record.prev !== prev) return "prev is not the previous record's hash: the previous record was replaced";
  return undefined;
}

/** One line for the terminal: what was verified, or which record is broken and why. */
export function describeVerification(path: string, v: Verification): string {
  if (v.broken) {
    const { file, line, seq, problem } = v.broken;
    return `${file}:${line}${seq === undefined ? '' : ` (seq ${seq})`}: ${problem}`;
  }
  if (v.files.length === 0) return `${path}: no audit log found`;
  const span = v.records === 0 ? 'no records' : `${v.records} records, seq ${v.firstSeq}–${v.lastSeq}`;
  const chains = v.chains === 1 ? '' : `, ${v.chains} chains`;
  const earlier = v.firstSeq !== undefined && v.firstSeq > 1 ? ' (earlier records were rotated away)' : '';
  return `${path}: verified ${span}${chains} in ${v.files.length} file(s)${earlier}`;
}
