import { closeSync, fstatSync, openSync, readSync, write } from 'node:fs';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  GENESIS,
  isBroken,
  type OpenedRecord,
  RESERVED_KEYS,
  rotatedFiles,
  rotatedName,
  seal,
  unseal,
} from './audit-record.ts';
import type { AuditConfig } from './config.ts';
import type { Logger } from './logger.ts';

/**
 * Where security-relevant events go. Events are named `<area>.<what happened>` (`config.reloaded`,
 * `token.expired`, `oidc.keys_rotated`, later `version.verdict`); fields are names, ids, counts, times and
 * digests, never a secret value. Recording costs the caller a hash and an array push: the write happens
 * later, off the caller's path.
 */
export interface AuditSink {
  record(event: string, fields?: Record<string, unknown>): void;
}

export const NO_AUDIT: AuditSink = { record() {} };

/** Records waiting for the disk; past this, new ones are counted as lost (and the count recorded later). */
const MAX_PENDING = 10_000;
const RETRY_MS = 1000;
const CLOSE_TIMEOUT_MS = 5000;
const EDGE_BYTES = 65_536;

const writeFd = promisify(write);

interface Output {
  /** Writes whole lines, in order; rejects to be retried with the same lines. */
  write(lines: readonly Pending[]): Promise<void>;
  close(): Promise<void>;
}

interface Pending {
  seq: number;
  line: string;
}

/** Reads up to `bytes` at the start or the end of a file (the audit log's first or last records). */
function readEdge(
  path: string,
  end: 'head' | 'tail',
  bytes = EDGE_BYTES,
): { text: string; size: number } | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, end === 'head' ? 0 : size - length);
    return { text: buffer.toString('utf8'), size };
  } finally {
    closeSync(fd);
  }
}

/**
 * The last intact record of a file, so that a torn final line (a crash mid-write) is skipped. Reads
 * backwards in growing steps: records are small, but nothing bounds one.
 */
function lastRecord(path: string): OpenedRecord | undefined {
  for (let bytes = EDGE_BYTES; ; bytes *= 16) {
    const edge = readEdge(path, 'tail', bytes);
    if (!edge) return undefined;
    const lines = edge.text.split('\n');
    // The first line of a partial read may be cut: it counts only when the read began at the file's start.
    const whole = bytes >= edge.size ? 0 : 1;
    for (let i = lines.length - 1; i >= whole; i--) {
      const record = unseal(lines[i] as string);
      if (!isBroken(record)) return record;
    }
    if (bytes >= edge.size) return undefined;
  }
}

/** A size-rotated file: `path` is written, rotated ones are `path.<first seq>` (audit-record.ts). */
class FileOutput implements Output {
  readonly #path: string;
  readonly #maxBytes: number;
  readonly #maxBackups: number;
  #file: FileHandle;
  #size: number;
  #firstSeq: number | undefined;

  private constructor(path: string, config: AuditConfig['rotation'], file: FileHandle, size: number) {
    this.#path = path;
    this.#maxBytes = config.max_megabytes * 1024 * 1024;
    this.#maxBackups = config.max_backups;
    this.#file = file;
    this.#size = size;
    const head = readEdge(path, 'head')?.text.split('\n')[0];
    this.#firstSeq = head === undefined ? undefined : unseal(head).seq;
  }

  static async open(path: string, config: AuditConfig['rotation']): Promise<FileOutput> {
    const tail = readEdge(path, 'tail');
    const file = await open(path, 'a', 0o640);
    let size = tail?.size ?? 0;
    // A torn last line (no newline: a crash mid-write) must not swallow the next record.
    if (tail && tail.size > 0 && !tail.text.endsWith('\n')) {
      await file.write('\n');
      size++;
    }
    return new FileOutput(path, config, file, size);
  }

  async write(lines: readonly Pending[]): Promise<void> {
    let start = 0;
    while (start < lines.length) {
      let end = start;
      let bytes = 0;
      // Up to where the file would pass its size; a single record larger than that gets a file of its own.
      for (; end < lines.length; end++) {
        const length = Buffer.byteLength((lines[end] as Pending).line) + 1;
        if (this.#size + bytes + length > this.#maxBytes && (this.#size + bytes > 0 || end > start)) break;
        bytes += length;
      }
      if (end === start) {
        await this.#rotate((lines[start] as Pending).seq);
        continue;
      }
      const chunk = lines.slice(start, end);
      await this.#file.write(`${chunk.map((p) => p.line).join('\n')}\n`);
      this.#firstSeq ??= (chunk[0] as Pending).seq;
      this.#size += bytes;
      start = end;
    }
  }

  async #rotate(nextSeq: number): Promise<void> {
    await this.#file.close();
    // A file whose first line is unreadable is named just below the next file, which keeps the order.
    await rename(this.#path, rotatedName(this.#path, this.#firstSeq ?? Math.max(0, nextSeq - 1)));
    this.#file = await open(this.#path, 'a', 0o640);
    this.#size = 0;
    this.#firstSeq = undefined;
    const backups = rotatedFiles(this.#path);
    if (this.#maxBackups > 0) {
      for (const old of backups.slice(0, Math.max(0, backups.length - this.#maxBackups))) await unlink(old);
    }
  }

  close(): Promise<void> {
    return this.#file.close();
  }
}

/** stdout, shared with the JSON logs: one write per record, so that lines never interleave. */
class StdoutOutput implements Output {
  async write(lines: readonly Pending[]): Promise<void> {
    for (const { line } of lines) {
      for (;;) {
        try {
          await writeFd(1, `${line}\n`);
          break;
        } catch (err) {
          // A non-blocking pipe that is full: wait for the reader rather than lose the record.
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
          await sleep(10);
        }
      }
    }
  }
  async close(): Promise<void> {}
}

/**
 * The append-only, hash-chained audit log (docs/operations.md, "Audit trail"). Each record carries its
 * sequence number and the hash of the record before it, across rotations and restarts: a file log resumes
 * the chain from its last record. Records are sealed when recorded (on the caller's thread, a few µs) and
 * written in the background, so the thread that acknowledges beacons never waits for a disk.
 */
export class AuditLog implements AuditSink {
  readonly #output: Output;
  readonly #log: Logger;
  #seq: number;
  #prev: string;
  #pending: Pending[] = [];
  #lost = 0;
  #writing: Promise<void> | undefined;
  #closed = false;
  #failing = false;

  private constructor(output: Output, last: OpenedRecord | undefined, log: Logger) {
    this.#output = output;
    this.#log = log;
    this.#seq = last?.seq ?? 0;
    this.#prev = last?.hash ?? GENESIS;
  }

  /** Opens the configured log, or returns undefined when there is none. Fails when the file cannot be opened. */
  static async open(config: AuditConfig, log: Logger): Promise<AuditLog | undefined> {
    if (config.path === '') return undefined;
    if (config.path === 'stdout') return new AuditLog(new StdoutOutput(), undefined, log);
    const newestBackup = rotatedFiles(config.path).at(-1);
    const last = lastRecord(config.path) ?? (newestBackup ? lastRecord(newestBackup) : undefined);
    return new AuditLog(await FileOutput.open(config.path, config.rotation), last, log);
  }

  record(event: string, fields: Record<string, unknown> = {}): void {
    if (this.#closed) return;
    if (this.#pending.length >= MAX_PENDING - 1) {
      this.#lost++;
      return;
    }
    if (this.#lost > 0) {
      this.#append('audit.records_lost', { records: this.#lost });
      this.#lost = 0;
    }
    this.#append(event, fields);
    this.#writing ??= this.#drain();
  }

  #append(event: string, fields: Record<string, unknown>): void {
    const record: Record<string, unknown> = { seq: ++this.#seq, time: new Date().toISOString(), event };
    for (const [key, value] of Object.entries(fields)) if (!RESERVED_KEYS.has(key)) record[key] = value;
    record.prev = this.#prev;
    const { line, hash } = seal(JSON.stringify(record));
    this.#prev = hash;
    this.#pending.push({ seq: this.#seq, line });
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const lines = this.#pending;
      this.#pending = [];
      try {
        await this.#output.write(lines);
        if (this.#failing) this.#log.info('the audit log is written again');
        this.#failing = false;
      } catch (err) {
        // Kept in order and tried again: a full disk must not make the log skip records.
        this.#pending = [...lines, ...this.#pending];
        if (!this.#failing) {
          this.#log.error(
            { error: (err as Error).message },
            'cannot write the audit log; records wait in memory',
          );
        }
        this.#failing = true;
        if (this.#closed) break;
        await sleep(RETRY_MS);
      }
    }
    this.#writing = undefined;
  }

  /** Writes what is pending (waiting at most a few seconds for a failing disk) and closes the file. */
  async close(): Promise<void> {
    const flushed = this.#writing ?? Promise.resolve();
    this.#closed = true;
    await Promise.race([flushed, sleep(CLOSE_TIMEOUT_MS, undefined, { ref: false })]);
    if (this.#pending.length > 0) {
      this.#log.error({ records: this.#pending.length }, 'audit records not written before exit');
    }
    await this.#output.close();
  }
}
