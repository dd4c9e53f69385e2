import type { SharedMetricsReader } from '../telemetry/shared-metrics.ts';
import type { OtlpItem, Sender, ToWorker } from './messages.ts';

/** Where hand-off messages go: one mailbox per shard (the worker runtime's pool of threads). */
export interface ShardPort {
  readonly size: number;
  post(shard: number, message: ToWorker, transfer?: ArrayBuffer[]): void;
}

/** Most beacons in one hand-off message; bounds the latency a single big flush adds. */
const MAX_ITEMS = 256;

/**
 * How long accepted data waits for more to share its message. The client's ack is already sent, so
 * this delays only when the worker sees the spans; waiting one timer tick rather than one event-loop
 * turn lets a busy receiver gather many beacons per message (a postMessage costs more than a parse).
 */
const FLUSH_DELAY_MS = 5;

interface ShardBuffer {
  /** Beacon hand-off items (JSON texts), joined only when sent: joining once copies less than growing a string. */
  beacons: string[];
  /** OTLP requests' spans for this shard, each already encoded as its own ExportTraceServiceRequest. */
  otlp: OtlpItem[];
  /** Bytes of the beacon text. */
  bytes: number;
  otlpBytes: number;
  /** Spans of the beacons. */
  spans: number;
  /** Bytes ever posted to this shard; the shard counts what it has taken up in shared memory. */
  posted: number;
  /** Spans ever posted to this shard: those it has not taken up are lost if it dies. */
  postedSpans: number;
}

/**
 * Hands accepted beacons (and OTLP requests' spans, already split by shard) to their shard in batches:
 * everything accepted within FLUSH_DELAY_MS goes out as one message per shard and kind, so the
 * per-message cost is shared by every beacon in it. Bytes handed off and not yet taken up are bounded;
 * past the bound the receiver sheds load instead of letting worker mailboxes grow.
 */
export class Handoff {
  readonly #pool: ShardPort;
  readonly #metrics: SharedMetricsReader;
  readonly #maxPendingPerShard: number;
  readonly #shards: ShardBuffer[];
  #scheduled = false;

  constructor(pool: ShardPort, metrics: SharedMetricsReader, maxPendingBytes: number) {
    this.#pool = pool;
    this.#metrics = metrics;
    this.#maxPendingPerShard = maxPendingBytes / pool.size;
    this.#shards = Array.from({ length: pool.size }, () => ({
      beacons: [],
      otlp: [],
      bytes: 0,
      otlpBytes: 0,
      spans: 0,
      posted: 0,
      postedSpans: 0,
    }));
  }

  /** Bytes handed to a shard (or waiting to be) that it has not yet taken up. */
  pendingBytes(shard: number): number {
    const buffer = this.#shards[shard] as ShardBuffer;
    return (
      buffer.posted +
      buffer.bytes +
      buffer.otlpBytes -
      this.#metrics.read('handoffBytesDone', undefined, shard)
    );
  }

  /** False when the shard is over its bound and ingest for it should be refused. */
  hasRoom(shard: number): boolean {
    return this.pendingBytes(shard) <= this.#maxPendingPerShard;
  }

  /** What has been sent to a shard so far, in bytes and spans (not what still waits here for a flush). */
  posted(shard: number): { bytes: number; spans: number } {
    const buffer = this.#shards[shard] as ShardBuffer;
    return { bytes: buffer.posted, spans: buffer.postedSpans };
  }

  /**
   * Queues a validated beacon (its JSON text, holding `spans` spans) for its shard; false when that
   * shard is over its bound.
   */
  offer(shard: number, from: Sender, beaconJson: string, spans: number): boolean {
    if (!this.hasRoom(shard)) return false;
    this.push(shard, from, beaconJson, spans);
    return true;
  }

  /**
   * Queues a beacon whose shard had room when it was accepted: with the write-ahead log on, it is
   * handed off only after its commit, and must then go whatever the bound says. `segment` is the log
   * segment it is in; `recovered` marks one replayed from the log at start.
   */
  push(
    shard: number,
    { ip, identity }: Sender,
    beaconJson: string,
    spans: number,
    segment?: number,
    recovered = false,
  ): void {
    const buffer = this.#shards[shard] as ShardBuffer;
    const sender = identity === '' ? '' : `,"id":${JSON.stringify(identity)}`;
    const head = `{"ip":${JSON.stringify(ip)}${sender},"n":${spans}`;
    const item =
      segment === undefined
        ? `${head},"b":${beaconJson}}`
        : `${head},"w":${segment}${recovered ? ',"r":1' : ''},"b":${beaconJson}}`;
    buffer.beacons.push(item);
    buffer.bytes += item.length;
    buffer.spans += spans;
    this.#queued(shard, buffer);
  }

  /**
   * Queues one OTLP request's spans for a shard, as ExportTraceServiceRequest bytes the shard decodes.
   * The caller checks hasRoom for every shard of a request first, so a request is taken whole or refused.
   */
  offerOtlp(shard: number, { ip, identity }: Sender, part: Omit<OtlpItem, 'ip' | 'identity'>): void {
    // Only a sender with an identity adds the field: without identities the message is as it was.
    const item: OtlpItem = identity === '' ? { ip, ...part } : { ip, identity, ...part };
    const buffer = this.#shards[shard] as ShardBuffer;
    buffer.otlp.push(item);
    buffer.otlpBytes += item.body.byteLength;
    this.#queued(shard, buffer);
  }

  #queued(shard: number, buffer: ShardBuffer): void {
    if (buffer.beacons.length + buffer.otlp.length >= MAX_ITEMS) this.#send(shard);
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setTimeout(() => this.flush(), FLUSH_DELAY_MS);
    }
  }

  flush(): void {
    this.#scheduled = false;
    for (let shard = 0; shard < this.#shards.length; shard++) this.#send(shard);
  }

  #send(shard: number): void {
    const buffer = this.#shards[shard] as ShardBuffer;
    if (buffer.beacons.length + buffer.otlp.length === 0) return;
    const { spans } = buffer;
    if (buffer.bytes > 0) {
      const text = `[${buffer.beacons.join(',')}]`;
      this.#pool.post(shard, { type: 'beacons', text, bytes: buffer.bytes, spans });
    }
    let otlpSpans = 0;
    if (buffer.otlpBytes > 0) {
      // The bodies are the route's own copies: transferred, not cloned.
      const transfer = buffer.otlp.map((item) => item.body.buffer as ArrayBuffer);
      for (const item of buffer.otlp) otlpSpans += item.spans;
      this.#pool.post(shard, { type: 'otlp', items: buffer.otlp, bytes: buffer.otlpBytes }, transfer);
    }
    buffer.posted += buffer.bytes + buffer.otlpBytes;
    buffer.postedSpans += spans + otlpSpans;
    buffer.beacons = [];
    buffer.otlp = [];
    buffer.bytes = 0;
    buffer.otlpBytes = 0;
    buffer.spans = 0;
  }
}
