import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { nodeStorageFs, type StorageFs, writeFile } from './storage-fs.ts';

// One export batch per file, named by a sequence number so that replay is oldest-first. Each file is
// a framed record: a fixed header (magic, flags — the body's format in the low byte — span count, body
// length, CRC-32 of the body; with FLAG_SEGMENT, then the write-ahead-log segment all its spans came from)
// and the body. A write torn by a crash leaves a file whose size or checksum does not match: that record alone
// is detected, counted and removed; the others are untouched because no file is ever rewritten.
const MAGIC = 0x45525131; // "ERQ1"
const HEADER_BYTES = 20;
const SEGMENT_HEADER_BYTES = 24;
/** The low byte of the flags is the body's format (export/body-format.ts), stored as given. */
const FORMAT_MASK = 0xff;
const FLAG_SEGMENT = 0x100;
const SUFFIX = '.batch';
const NAME = /^(\d{16})\.batch$/;

/** A batch that lives on disk until it is delivered or dropped. */
export interface StoredBatch {
  readonly seq: number;
  readonly spans: number;
  /** The body's format flags (export/body-format.ts). */
  readonly format: number;
  /** Bytes on disk, header included. */
  readonly bytes: number;
  /** The write-ahead-log segment its spans were logged in, when the log is on. */
  readonly segment?: number | undefined;
}

/** A record that could not be read back: `spans` is 0 when even its header was lost. */
export interface CorruptRecord {
  readonly file: string;
  readonly spans: number;
  readonly problem: string;
  readonly segment?: number | undefined;
}

const PROBE = 'probe.tmp';
const fileName = (seq: number): string => `${String(seq).padStart(16, '0')}${SUFFIX}`;

interface Header {
  spans: number;
  format: number;
  length: number;
  crc: number;
  /** Where the body starts. */
  size: number;
  segment: number | undefined;
}

function readHeader(fd: number): Header | string {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  const got = readSync(fd, header, 0, SEGMENT_HEADER_BYTES, 0);
  if (got < HEADER_BYTES) return `header torn (${got} of ${HEADER_BYTES} bytes)`;
  if (header.readUInt32BE(0) !== MAGIC) return 'not a batch record (bad magic)';
  const flags = header.readUInt32BE(4);
  const tagged = (flags & FLAG_SEGMENT) !== 0;
  if (tagged && got < SEGMENT_HEADER_BYTES) return `header torn (${got} of ${SEGMENT_HEADER_BYTES} bytes)`;
  return {
    format: flags & FORMAT_MASK,
    spans: header.readUInt32BE(8),
    length: header.readUInt32BE(12),
    crc: header.readUInt32BE(16),
    size: tagged ? SEGMENT_HEADER_BYTES : HEADER_BYTES,
    segment: tagged ? header.readUInt32BE(20) : undefined,
  };
}

/**
 * The persistent half of the sending queue for one worker shard: a directory of batch files bounded
 * in bytes. Synchronous file I/O on purpose: it runs in a worker thread (never on the ingest thread),
 * batches are few and large, and a write that has returned is in the page cache, so it survives a
 * SIGKILL of the process. Not a power loss of the host, unless `sync` is on: the write-ahead log
 * deletes what it holds once it is in this queue, so with the log on each batch is fsynced.
 */
export class DiskQueue {
  readonly #dir: string;
  readonly #maxBytes: number;
  /** The directory's descriptor, to fsync new names; only with `sync`. */
  readonly #dirFd: number | undefined;
  readonly #fs: StorageFs;
  #usedBytes = 0;
  #spans = 0;
  /** What the records take on the filesystem: each file rounded up to whole blocks. */
  #diskBytes = 0;
  #blockSize = 4096;
  #nextSeq = 0;
  /** Bytes of the write that failed last; 0 while writes succeed. */
  #failedBytes = 0;

  private constructor(dir: string, maxBytes: number, sync: boolean, fs: StorageFs) {
    this.#dir = dir;
    this.#maxBytes = maxBytes;
    this.#dirFd = sync ? openSync(dir, 'r') : undefined;
    this.#fs = fs;
  }

  /**
   * Opens (creating) `dir`, first moving in the records of `adopt` directories (shards that no longer
   * exist after a change of thread count), and returns the readable records oldest first plus the
   * corrupt ones, which are removed.
   */
  static open(
    dir: string,
    maxBytes: number,
    adopt: readonly string[] = [],
    sync = false,
    fs: StorageFs = nodeStorageFs,
  ): { queue: DiskQueue; recovered: StoredBatch[]; corrupt: CorruptRecord[] } {
    mkdirSync(dir, { recursive: true });
    rmSync(join(dir, PROBE), { force: true });
    const queue = new DiskQueue(dir, maxBytes, sync, fs);
    queue.#blockSize = queue.#space().blockSize || queue.#blockSize;
    queue.#nextSeq = queue.#seqs().reduce((max, seq) => Math.max(max, seq + 1), 0);
    for (const other of adopt) queue.#adopt(other);
    const recovered: StoredBatch[] = [];
    const corrupt: CorruptRecord[] = [];
    for (const seq of queue.#seqs()) {
      const checked = queue.#check(seq);
      if ('problem' in checked) {
        corrupt.push(checked);
        rmSync(join(dir, fileName(seq)), { force: true });
      } else {
        recovered.push(checked);
        queue.#count(checked.bytes, checked.spans);
      }
    }
    return { queue, recovered, corrupt };
  }

  get usedBytes(): number {
    return this.#usedBytes;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** Spans in the stored records. */
  get spans(): number {
    return this.#spans;
  }

  get diskBytes(): number {
    return this.#diskBytes;
  }

  /** Bytes the filesystem still has (it may be shared with other writers, and with other shards). */
  get freeBytes(): number {
    return this.#space().free;
  }

  #space(): { free: number; blockSize: number } {
    try {
      return this.#fs.space(this.#dir);
    } catch {
      return { free: Number.POSITIVE_INFINITY, blockSize: 0 };
    }
  }

  #count(bytes: number, spans: number): void {
    this.#spans += spans;
    this.#usedBytes += bytes;
    this.#diskBytes += Math.sign(bytes) * Math.ceil(Math.abs(bytes) / this.#blockSize) * this.#blockSize;
  }

  /**
   * False from a failed write (a full disk) until a write of that size succeeds again, which each
   * call while false tries with a probe file (written and removed).
   */
  writable(): boolean {
    if (this.#failedBytes > 0 && this.#probe(this.#failedBytes)) this.#failedBytes = 0;
    return this.#failedBytes === 0;
  }

  #probe(bytes: number): boolean {
    if (this.freeBytes < bytes) return false;
    try {
      writeFile(this.#fs, join(this.#dir, PROBE), new Uint8Array(bytes));
      return true;
    } catch {
      return false;
    } finally {
      rmSync(join(this.#dir, PROBE), { force: true });
    }
  }

  /** Writes a batch; undefined when it would take the directory past its byte bound. Throws when the write fails. */
  append(body: Uint8Array, spans: number, format: number, segment?: number): StoredBatch | undefined {
    const headerBytes = segment === undefined ? HEADER_BYTES : SEGMENT_HEADER_BYTES;
    const bytes = headerBytes + body.length;
    if (this.#usedBytes + bytes > this.#maxBytes) return undefined;
    const header = Buffer.alloc(headerBytes);
    header.writeUInt32BE(MAGIC, 0);
    header.writeUInt32BE((format & FORMAT_MASK) | (segment === undefined ? 0 : FLAG_SEGMENT), 4);
    header.writeUInt32BE(spans, 8);
    header.writeUInt32BE(body.length, 12);
    header.writeUInt32BE(crc32(body), 16);
    if (segment !== undefined) header.writeUInt32BE(segment, 20);
    const seq = this.#nextSeq++;
    const dirFd = this.#dirFd;
    try {
      writeFile(
        this.#fs,
        join(this.#dir, fileName(seq)),
        Buffer.concat([header, body]),
        dirFd === undefined
          ? undefined
          : (fd) => {
              fdatasyncSync(fd);
              fsyncSync(dirFd);
            },
      );
    } catch (err) {
      this.#failedBytes = bytes;
      throw err;
    }
    this.#count(bytes, spans);
    return { seq, spans, format, bytes, segment };
  }

  /** The body of a stored batch, or a description of why it cannot be trusted. */
  read(batch: StoredBatch): Uint8Array | { problem: string } {
    let fd: number;
    try {
      fd = openSync(join(this.#dir, fileName(batch.seq)), 'r');
    } catch (err) {
      return { problem: `cannot open: ${(err as Error).message}` };
    }
    try {
      const header = readHeader(fd);
      if (typeof header === 'string') return { problem: header };
      const body = Buffer.alloc(header.length);
      const got = readSync(fd, body, 0, header.length, header.size);
      if (got !== header.length) return { problem: `body torn (${got} of ${header.length} bytes)` };
      if (crc32(body) !== header.crc) return { problem: 'checksum mismatch' };
      return body;
    } finally {
      closeSync(fd);
    }
  }

  /** Deletes a batch once it has been delivered or counted as dropped. */
  remove(batch: StoredBatch): void {
    rmSync(join(this.#dir, fileName(batch.seq)), { force: true });
    this.#count(-batch.bytes, -batch.spans);
  }

  #seqs(): number[] {
    return readdirSync(this.#dir)
      .map((name) => NAME.exec(name)?.[1])
      .filter((seq): seq is string => seq !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** Validates a record's framing (size against header); the checksum is verified when it is read to send. */
  #check(seq: number): StoredBatch | CorruptRecord {
    const file = join(this.#dir, fileName(seq));
    const fd = openSync(file, 'r');
    try {
      const header = readHeader(fd);
      if (typeof header === 'string') return { file, spans: 0, problem: header };
      const size = fstatSync(fd).size;
      if (size !== header.size + header.length) {
        return {
          file,
          spans: header.spans,
          problem: `record torn: ${size} bytes on disk, header says ${header.size + header.length}`,
          segment: header.segment,
        };
      }
      return { seq, spans: header.spans, format: header.format, bytes: size, segment: header.segment };
    } finally {
      closeSync(fd);
    }
  }

  #adopt(other: string): void {
    let names: string[];
    try {
      names = readdirSync(other).filter((name) => NAME.test(name));
    } catch {
      return;
    }
    for (const name of names.sort())
      renameSync(join(other, name), join(this.#dir, fileName(this.#nextSeq++)));
    rmSync(other, { recursive: true, force: true });
  }
}
