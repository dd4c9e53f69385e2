import { mkdirSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Sender } from '../../handoff/messages.ts';
import { walFailed } from '../../lib/errors.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { SettledSegmentsReader } from '../../telemetry/settled-segments.ts';
import type { WalConfig } from './config.ts';
import { type SegmentEntry, SegmentTable } from './segment-table.ts';
import { CommitBuffer, listSegments, RecordKind, segmentPath } from './wal-format.ts';
import type { FromWriter, ToWriter, WriterData } from './writer-messages.ts';

const writerUrl = new URL(`./wal-writer${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** How often settled segments are deleted and an old segment closed. */
const CHECK_INTERVAL_MS = 50;

/** Runs once the request's records are on disk (`error` undefined) or could not be written. */
export type Committed = (error: Error | undefined, segment: number) => void;

/** One shard's part of an OTLP request: the ExportTraceServiceRequest handed to that shard. */
export interface OtlpPart {
  readonly shard: number;
  readonly body: Uint8Array;
  readonly spans: number;
}

interface InFlight {
  readonly id: number;
  readonly entry: SegmentEntry;
  readonly spans: number;
  readonly waiting: Committed[];
}

/**
 * The write-ahead log on the ack path. Requests are appended to the frame being filled and answered
 * when its group commit is on disk: one write and one fsync, on the writer thread, for every request
 * that arrived while the previous commit was under way (or within `commit_interval`), so the ack
 * thread never waits on the disk, and never for one request alone. Segments are deleted once every
 * span handed off from them is settled (settled-segments.ts); those left after an unclean stop are
 * replayed at the next start (wal-replay.ts).
 */
export class WriteAheadLog {
  /** Segments an earlier run left, oldest first: replayed before the receiver opens. */
  readonly recovered: readonly number[];
  readonly #config: WalConfig;
  readonly #shards: number;
  readonly #writer: Worker;
  readonly #log: Logger;
  readonly #table: SegmentTable;
  readonly #frame = new CommitBuffer();
  #current: SegmentEntry;
  #waiting: Committed[] = [];
  #waitingSpans = 0;
  #inFlight: InFlight | undefined;
  #nextCommit = 0;
  #lastCommitAt = Number.NEGATIVE_INFINITY;
  #scheduled = false;
  #bytes = 0;
  readonly #timer: NodeJS.Timeout;
  /** Entries of the recovered segments, pinned until their replay is done. */
  readonly #recovering = new Map<number, SegmentEntry>();
  #idle: (() => void)[] = [];
  #closing = false;
  #closed: (() => void) | undefined;
  readonly #commits: Counter<'outcome'>;

  /** Opens the log in `config.directory`, noting what an earlier run left there, and starts its writer thread. */
  constructor(
    config: WalConfig,
    shards: number,
    settled: SettledSegmentsReader,
    registry: Registry,
    log: Logger,
    onCrash: (error: Error) => void,
  ) {
    this.#config = config;
    this.#shards = shards;
    this.#log = log;
    mkdirSync(config.directory, { recursive: true });
    this.recovered = listSegments(config.directory);
    this.#table = new SegmentTable(settled, (this.recovered.at(-1) ?? -1) + 1);
    const now = Date.now();
    // Before the first new segment takes a slot: an earlier run's segments keep theirs.
    for (const id of this.recovered) {
      const bytes = statSync(segmentPath(config.directory, id)).size;
      this.#recovering.set(id, this.#table.recovered(id, bytes, now));
      this.#bytes += bytes;
    }
    this.#current = this.#table.open(now) as SegmentEntry;
    const data: WriterData = { directory: config.directory };
    this.#writer = new Worker(writerUrl, { workerData: data });
    this.#writer.on('message', (message: FromWriter) => this.#onWriter(message));
    this.#writer.on('error', onCrash);
    this.#writer.on('exit', (code) => {
      if (!this.#closing) onCrash(new Error(`the write-ahead log's writer thread exited with code ${code}`));
    });
    this.#send({ type: 'open', segment: this.#current.ids[0] as number });
    this.#timer = setInterval(() => this.#check(), CHECK_INTERVAL_MS).unref();
    this.#commits = new Counter({
      name: 'edge_relay_wal_commits_total',
      help: 'Group commits of the write-ahead log (one write and fsync each), by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    });
    const gauge = (name: string, help: string, value: () => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(value());
        },
      });
    gauge(
      'edge_relay_wal_bytes',
      'Bytes of the write-ahead log on disk (receiver.wal.max_bytes bounds it)',
      () => this.#bytes,
    );
    gauge(
      'edge_relay_wal_segments',
      'Segments of the write-ahead log on disk, waiting for their spans to settle',
      () => this.#table.size,
    );
  }

  /** False when the log is at `max_bytes`: the receiver refuses new data until settled segments are deleted. */
  hasRoom(): boolean {
    return this.#bytes + this.#frame.bytes < this.#config.max_bytes;
  }

  /** Appends a beacon: its JSON as text, or as the UTF-8 bytes it arrived in (a copy, no re-encoding). */
  beacon(shard: number, from: Sender, json: string | Uint8Array, spans: number, done: Committed): void {
    const header = { hops: 0, shard, shards: this.#shards, spans, ...from };
    if (typeof json === 'string') this.#frame.add(RecordKind.beacon, header, json, undefined);
    else this.#frame.add(RecordKind.beacon, header, undefined, json);
    this.#append(spans, done);
  }

  otlp(from: Sender, hops: number, parts: readonly OtlpPart[], done: Committed): void {
    let spans = 0;
    for (const part of parts) {
      const header = { hops, shard: part.shard, shards: this.#shards, spans: part.spans, ...from };
      this.#frame.add(RecordKind.otlp, header, undefined, part.body);
      spans += part.spans;
    }
    this.#append(spans, done);
  }

  /** The entry a recovered segment's replayed spans are counted in. */
  replaying(id: number): SegmentEntry {
    return this.#recovering.get(id) as SegmentEntry;
  }

  /** Replay of a recovered segment is done: once its spans settle, it may go. */
  replayed(id: number): void {
    const entry = this.#recovering.get(id);
    this.#recovering.delete(id);
    if (entry) entry.pins--;
  }

  #append(spans: number, done: Committed): void {
    this.#waiting.push(done);
    this.#waitingSpans += spans;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight) return;
    this.#scheduled = true;
    const wait = this.#lastCommitAt + this.#config.commit_interval - performance.now();
    // At once (after this turn of the event loop, so that its requests share the commit) unless the
    // previous commit started less than commit_interval ago.
    if (wait <= 0) setImmediate(() => this.#commit());
    else setTimeout(() => this.#commit(), wait);
  }

  #commit(): void {
    this.#scheduled = false;
    if (this.#inFlight || this.#frame.records === 0) return;
    const entry = this.#current;
    const { buffer, length } = this.#frame.take();
    // Credited to the segment the frame goes to; nothing of it settles before its commit is done.
    entry.expected += this.#waitingSpans;
    entry.bytes += length;
    entry.pins++;
    this.#bytes += length;
    const id = this.#nextCommit++;
    this.#inFlight = { id, entry, spans: this.#waitingSpans, waiting: this.#waiting };
    this.#waiting = [];
    this.#waitingSpans = 0;
    this.#lastCommitAt = performance.now();
    this.#send({ type: 'commit', id, segment: entry.ids[0] as number, buffer, length }, [buffer]);
    if (entry.bytes >= this.#config.segment_max_bytes) this.#rotate();
  }

  #onWriter(message: FromWriter): void {
    if (message.type === 'error') {
      this.#log.error({ directory: this.#config.directory, detail: message.message }, 'write-ahead log');
      return;
    }
    if (message.type === 'closed') {
      this.#closed?.();
      return;
    }
    const done = this.#inFlight as InFlight;
    this.#inFlight = undefined;
    done.entry.pins--;
    this.#frame.recycle(message.buffer);
    const segment = done.entry.ids[0] as number;
    if (message.type === 'committed') {
      this.#commits.inc({ outcome: 'success' });
      for (const committed of done.waiting) committed(undefined, segment);
    } else {
      this.#commits.inc({ outcome: 'failure' });
      done.entry.expected -= done.spans;
      this.#log.error(
        {
          directory: this.#config.directory,
          segment,
          requests: done.waiting.length,
          detail: message.message,
        },
        'write-ahead log commit failed; its requests were refused (503)',
      );
      const error = walFailed(message.message);
      for (const committed of done.waiting) committed(error, segment);
      if (done.entry === this.#current) this.#rotate();
    }
    if (this.#frame.records > 0) this.#schedule();
    else for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Closes the current segment for a new one; without a free slot the current one just grows. */
  #rotate(): void {
    const next = this.#table.open(Date.now());
    if (!next) return;
    this.#current.closed = true;
    this.#current = next;
    this.#send({ type: 'open', segment: next.ids[0] as number });
  }

  #check(): void {
    const current = this.#current;
    if (current.expected > 0 && Date.now() - current.openedAt >= this.#config.segment_max_age) {
      this.#rotate();
    }
    const settled = this.#table.takeSettled();
    if (settled.length === 0) return;
    for (const entry of settled) this.#bytes -= entry.bytes;
    this.#send({ type: 'delete', segments: settled.flatMap((entry) => entry.ids) });
  }

  #send(message: ToWriter, transfer: ArrayBuffer[] = []): void {
    this.#writer.postMessage(message, transfer);
  }

  /**
   * After the workers have drained: commits what is pending, deletes every settled segment (starting
   * an empty one, so that the newest id stays on disk) and stops the writer. What is not settled stays
   * for the next start.
   */
  async close(): Promise<number> {
    clearInterval(this.#timer);
    if (this.#frame.records > 0 || this.#inFlight) {
      await new Promise<void>((resolve) => {
        this.#idle.push(resolve);
        this.#schedule();
      });
    }
    this.#rotate();
    this.#check();
    const left = this.#table.unsettled();
    this.#closing = true;
    await new Promise<void>((resolve) => {
      this.#closed = resolve;
      this.#send({ type: 'close' });
    });
    await this.#writer.terminate();
    return left;
  }
}
