import type { MessagePort } from 'node:worker_threads';
import type { Beacon } from '../model/beacon.ts';
import { FACTS, writeBeaconFacts } from '../model/beacon-facts.ts';
import type { FromReceiver, OtlpItem, Sender } from './messages.ts';
import type { Posted, PostedCounts } from './posted-counts.ts';

/** Where hand-off messages go: one mailbox per shard, this receiver's own channel to each. */
export interface ShardPort {
  readonly size: number;
  post(shard: number, message: FromReceiver, transfer?: ArrayBuffer[]): void;
}

/** A receiver's channels to the shards, one MessagePort per shard, in shard order. */
export class ShardPorts implements ShardPort {
  readonly #ports: MessagePort[];

  constructor(ports: readonly MessagePort[]) {
    this.#ports = [...ports];
  }

  get size(): number {
    return this.#ports.length;
  }

  post(shard: number, message: FromReceiver, transfer: ArrayBuffer[] = []): void {
    (this.#ports[shard] as MessagePort).postMessage(message, transfer);
  }

  /** A restarted shard's new channel: later posts go there; the old one (to a dead thread) is closed. */
  replace(shard: number, port: MessagePort): void {
    this.#ports[shard]?.close();
    this.#ports[shard] = port;
  }
}

/** What bounds a receiver's hand-off: what it posted to each shard, and what each shard took up of it. */
export interface HandoffCounts {
  posted: PostedCounts;
  /** Bytes a shard has taken up of this receiver's posts (taken-bytes.ts). */
  taken: (shard: number) => number;
}

/** Most beacons in one hand-off message; bounds the latency a single big flush adds. */
const MAX_ITEMS = 256;

/**
 * How long accepted data waits for more to share its message. The client's ack is already sent, so
 * this delays only when the worker sees the spans; waiting one timer tick rather than one event-loop
 * turn lets a busy receiver gather many beacons per message (a postMessage costs more than a parse).
 * 20 ms rather than 5: at 4,000 beacons/s with the realistic policies it cut the shard's CPU per
 * beacon by 6–25% over six paired rounds (fewer messages, each taken up with one pass of the sampler's
 * bookkeeping), with no change keeping everything (docs/architecture.md, "Why this shape").
 */
const FLUSH_DELAY_MS = 20;

interface ShardBuffer {
  /** Beacon hand-off items (JSON texts), joined only when sent: joining once copies less than growing a string. */
  beacons: string[];
  traceIds: string[];
  /** Each item's facts (model/beacon-facts.ts); room for MAX_ITEMS, reused, since a send copies what is used. */
  facts: Float64Array<ArrayBuffer>;
  beaconSpans: number;
  /** Whether the beacons waiting here were replayed from the write-ahead log. */
  recovered: boolean;
  /** OTLP requests' spans for this shard, each already encoded as its own ExportTraceServiceRequest. */
  otlp: OtlpItem[];
  /** Length of the beacon items. */
  bytes: number;
  otlpBytes: number;
}

const emptyBuffer = (recovered: boolean, facts = new Float64Array(MAX_ITEMS * FACTS)): ShardBuffer => ({
  beacons: [],
  traceIds: [],
  facts,
  beaconSpans: 0,
  recovered,
  otlp: [],
  bytes: 0,
  otlpBytes: 0,
});

/**
 * Hands accepted beacons (and OTLP requests' spans, already split by shard) to their shard in batches:
 * everything accepted within FLUSH_DELAY_MS goes out as one message per shard and kind, so the
 * per-message cost is shared by every beacon in it. Bytes handed off and not yet taken up are bounded;
 * past the bound the receiver sheds load instead of letting worker mailboxes grow.
 */
export class Handoff {
  readonly #pool: ShardPort;
  readonly #counts: HandoffCounts;
  readonly #maxPendingPerShard: number;
  readonly #shards: ShardBuffer[];
  #scheduled = false;

  /**
   * `counts` are this receiver's: what it posted (in shared memory, for the supervisor) and what each
   * shard took up of that; `maxPendingBytes` is this receiver's share of `workers.max_pending_bytes`,
   * split evenly over the shards.
   */
  constructor(pool: ShardPort, counts: HandoffCounts, maxPendingBytes: number) {
    this.#pool = pool;
    this.#counts = counts;
    this.#maxPendingPerShard = maxPendingBytes / pool.size;
    this.#shards = Array.from({ length: pool.size }, () => emptyBuffer(false));
  }

  /** Bytes handed to a shard (or waiting to be) that it has not yet taken up. */
  pendingBytes(shard: number): number {
    const buffer = this.#shards[shard] as ShardBuffer;
    return this.#counts.posted.bytes(shard) + buffer.bytes + buffer.otlpBytes - this.#counts.taken(shard);
  }

  /** False when the shard is over its bound and ingest for it should be refused. */
  hasRoom(shard: number): boolean {
    return this.pendingBytes(shard) <= this.#maxPendingPerShard;
  }

  /** True when every shard is over its bound: any request with spans would be refused. */
  full(): boolean {
    for (let shard = 0; shard < this.#shards.length; shard++) if (this.hasRoom(shard)) return false;
    return true;
  }

  /** What has been sent to a shard so far, in bytes and spans (not what still waits here for a flush). */
  posted(shard: number): Posted {
    return this.#counts.posted.of(shard);
  }

  /**
   * Queues a validated beacon (its JSON text, and the value parsed from it) for its shard; false when
   * that shard is over its bound.
   */
  offer(shard: number, from: Sender, beacon: Beacon, beaconJson: string): boolean {
    if (!this.hasRoom(shard)) return false;
    this.push(shard, from, beacon, beaconJson);
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
    beacon: Beacon,
    beaconJson: string,
    segment?: number,
    recovered = false,
  ): void {
    // A message's beacons are all recovered or none are: the shard counts them by the message.
    if ((this.#shards[shard] as ShardBuffer).recovered !== recovered) {
      this.#send(shard);
      (this.#shards[shard] as ShardBuffer).recovered = recovered;
    }
    const buffer = this.#shards[shard] as ShardBuffer;
    const sender = identity === '' ? '' : `,"id":${JSON.stringify(identity)}`;
    const item = `{"ip":${JSON.stringify(ip)}${sender},"b":${beaconJson}}`;
    buffer.bytes += item.length;
    const index = buffer.beacons.length;
    // In the joined text this item ends after `[`, every item so far, and a comma before each earlier one.
    writeBeaconFacts(buffer.facts, index * FACTS, beacon, 1 + buffer.bytes + index, segment);
    buffer.beacons.push(item);
    buffer.traceIds.push(beacon.traceId);
    buffer.beaconSpans += beacon.spans.length;
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

  /**
   * Sends what is left and tells every shard that nothing more comes from this receiver: a shard drains
   * only after every receiver's end, since messages on different channels have no order between them.
   */
  end(): void {
    this.flush();
    for (let shard = 0; shard < this.#shards.length; shard++) this.#pool.post(shard, { type: 'end' });
  }

  #send(shard: number): void {
    const buffer = this.#shards[shard] as ShardBuffer;
    if (buffer.beacons.length + buffer.otlp.length === 0) return;
    let spans = buffer.beaconSpans;
    if (buffer.bytes > 0) {
      this.#pool.post(shard, {
        type: 'beacons',
        text: `[${buffer.beacons.join(',')}]`,
        traceIds: buffer.traceIds,
        facts: buffer.facts.slice(0, buffer.beacons.length * FACTS),
        bytes: buffer.bytes,
        recovered: buffer.recovered,
      });
    }
    if (buffer.otlpBytes > 0) {
      // The bodies are the route's own copies: transferred, not cloned.
      const transfer = buffer.otlp.map((item) => item.body.buffer as ArrayBuffer);
      for (const item of buffer.otlp) spans += item.spans;
      this.#pool.post(shard, { type: 'otlp', items: buffer.otlp, bytes: buffer.otlpBytes }, transfer);
    }
    this.#counts.posted.add(shard, buffer.bytes + buffer.otlpBytes, spans);
    this.#shards[shard] = emptyBuffer(buffer.recovered, buffer.facts);
  }
}
