import { closeSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

// The write-ahead log on disk: a directory of segment files, `<16-digit id>.wal`, each a sequence of
// frames, one per group commit. A frame is a 16-byte header (magic, payload length, CRC-32 of the
// payload, record count) and its records; one record is one hand-off item (a beacon, or one shard's
// part of an OTLP request) with what replay needs to hand it off again. Commits are written one after
// the other and each is fsynced before the next starts, so only a segment's last frame can be torn;
// a frame that fails its checksum was never acknowledged and is skipped with the rest of its segment.

const FRAME_MAGIC = 0x45574c31; // "EWL1"
export const FRAME_HEADER_BYTES = 16;
const RECORD_HEADER_BYTES = 16;
const SEGMENT_NAME = /^(\d{16})\.wal$/;

export const RecordKind = { beacon: 1, otlp: 2 } as const;

/** One logged hand-off item, as replay reads it back. */
export interface WalRecord {
  readonly kind: (typeof RecordKind)[keyof typeof RecordKind];
  /** Replica hops of an OTLP part (route/forward-header.ts); 0 for beacons. */
  readonly hops: number;
  /** The shard it was handed to, out of `shards` at the time. */
  readonly shard: number;
  readonly shards: number;
  readonly spans: number;
  readonly ip: string;
  /** The sender's identity ("" when none was recorded, and in logs written before identities were). */
  readonly identity: string;
  /** The beacon's JSON text (UTF-8), or the part's ExportTraceServiceRequest. */
  readonly data: Buffer;
}

/**
 * The record's sender field: the address, then, after a line break (which neither an address nor an
 * identity contains), the identity if there is one. Records of logs written before identities were
 * recorded read back as an address alone.
 */
const senderField = (ip: string, identity: string): string => (identity === '' ? ip : `${ip}\n${identity}`);

export const segmentFile = (id: number): string => `${String(id).padStart(16, '0')}.wal`;

/** Segment ids in `dir`, oldest first. */
export function listSegments(dir: string): number[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => SEGMENT_NAME.exec(entry.name)?.[1])
    .filter((id): id is string => id !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * The frame being filled on the main thread: records are written straight into one buffer, which is
 * transferred (not copied) to the writer thread at commit and comes back to be reused.
 */
export class CommitBuffer {
  #buffer: Buffer;
  #used = FRAME_HEADER_BYTES;
  #records = 0;
  readonly #spares: Buffer[] = [];

  constructor(initialBytes = 65536) {
    this.#buffer = Buffer.allocUnsafeSlow(initialBytes);
  }

  get records(): number {
    return this.#records;
  }

  get bytes(): number {
    return this.#used;
  }

  /** Appends one record; `text` is written as UTF-8, `body` copied as is. */
  add(
    kind: WalRecord['kind'],
    header: { hops: number; shard: number; shards: number; spans: number; ip: string; identity: string },
    text: string | undefined,
    body: Uint8Array | undefined,
  ): void {
    const sender = senderField(header.ip, header.identity);
    // UTF-8 takes at most 3 bytes per UTF-16 unit; the exact length is known only after writing.
    const room = RECORD_HEADER_BYTES + sender.length * 3 + (text ? text.length * 3 : (body?.length ?? 0));
    this.#reserve(room);
    const buffer = this.#buffer;
    const at = this.#used;
    buffer.writeUInt8(kind, at);
    buffer.writeUInt8(header.hops, at + 1);
    buffer.writeUInt16LE(header.shard, at + 2);
    buffer.writeUInt16LE(header.shards, at + 4);
    let end = at + RECORD_HEADER_BYTES;
    const ipBytes = buffer.write(sender, end, 'utf8');
    buffer.writeUInt16LE(ipBytes, at + 6);
    buffer.writeUInt32LE(header.spans, at + 8);
    end += ipBytes;
    let dataBytes = 0;
    if (text !== undefined) dataBytes = buffer.write(text, end, 'utf8');
    else if (body) {
      buffer.set(body, end);
      dataBytes = body.length;
    }
    buffer.writeUInt32LE(dataBytes, at + 12);
    this.#used = end + dataBytes;
    this.#records++;
  }

  /** Hands the filled frame over (magic, length and checksum are the writer's to fill) and starts a new one. */
  take(): { buffer: ArrayBuffer; length: number } {
    const buffer = this.#buffer;
    buffer.writeUInt32LE(this.#records, 12);
    const taken = { buffer: buffer.buffer as ArrayBuffer, length: this.#used };
    this.#buffer = this.#spares.pop() ?? Buffer.allocUnsafeSlow(buffer.length);
    this.#used = FRAME_HEADER_BYTES;
    this.#records = 0;
    return taken;
  }

  /** A buffer the writer is done with, for a later frame. */
  recycle(buffer: ArrayBuffer): void {
    if (this.#spares.length < 2) this.#spares.push(Buffer.from(buffer));
  }

  #reserve(bytes: number): void {
    if (this.#used + bytes <= this.#buffer.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.#buffer.length * 2, this.#used + bytes));
    this.#buffer.copy(grown, 0, 0, this.#used);
    this.#buffer = grown;
    this.#spares.length = 0;
  }
}

/** Fills in a frame's magic, payload length and checksum; the writer thread does this, off the ack path. */
export function sealFrame(frame: Uint8Array): void {
  const view = Buffer.from(frame.buffer, frame.byteOffset, frame.length);
  view.writeUInt32LE(FRAME_MAGIC, 0);
  view.writeUInt32LE(frame.length - FRAME_HEADER_BYTES, 4);
  view.writeUInt32LE(crc32(view.subarray(FRAME_HEADER_BYTES)), 8);
}

/** What one segment file holds: its intact records, and the bytes past the last good frame. */
export interface SegmentContents {
  readonly records: WalRecord[];
  readonly unreadableBytes: number;
}

function parseRecords(payload: Buffer, count: number): WalRecord[] | undefined {
  const records: WalRecord[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + RECORD_HEADER_BYTES > payload.length) return undefined;
    const ipBytes = payload.readUInt16LE(at + 6);
    const dataBytes = payload.readUInt32LE(at + 12);
    const ipAt = at + RECORD_HEADER_BYTES;
    const end = ipAt + ipBytes + dataBytes;
    if (end > payload.length) return undefined;
    const sender = payload.toString('utf8', ipAt, ipAt + ipBytes);
    const cut = sender.indexOf('\n');
    records.push({
      kind: payload.readUInt8(at) as WalRecord['kind'],
      hops: payload.readUInt8(at + 1),
      shard: payload.readUInt16LE(at + 2),
      shards: payload.readUInt16LE(at + 4),
      spans: payload.readUInt32LE(at + 8),
      ip: cut < 0 ? sender : sender.slice(0, cut),
      identity: cut < 0 ? '' : sender.slice(cut + 1),
      data: payload.subarray(ipAt + ipBytes, end),
    });
    at = end;
  }
  return records;
}

/** Reads a segment frame by frame (never the whole file at once), stopping at the first bad frame. */
export function readSegment(file: string): SegmentContents {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const records: WalRecord[] = [];
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    let at = 0;
    while (at + FRAME_HEADER_BYTES <= size) {
      readSync(fd, header, 0, FRAME_HEADER_BYTES, at);
      const length = header.readUInt32LE(4);
      if (header.readUInt32LE(0) !== FRAME_MAGIC || at + FRAME_HEADER_BYTES + length > size) break;
      const payload = Buffer.alloc(length);
      readSync(fd, payload, 0, length, at + FRAME_HEADER_BYTES);
      if (crc32(payload) !== header.readUInt32LE(8)) break;
      const parsed = parseRecords(payload, header.readUInt32LE(12));
      if (!parsed) break;
      for (const record of parsed) records.push(record);
      at += FRAME_HEADER_BYTES + length;
    }
    return { records, unreadableBytes: size - at };
  } finally {
    closeSync(fd);
  }
}

export const segmentPath = (dir: string, id: number): string => join(dir, segmentFile(id));
