import { OtlpEncoder } from '../export/otlp-encoder.ts';
import { atDeadline } from '../lib/deadline.ts';
import { type Delivery, HttpSender, type SendFailure } from '../lib/http-sender.ts';
import { JSON_TYPE, PROTOBUF } from '../lib/media-types.ts';
import type { SpanRecord } from '../model/span.ts';
import type { SharedDecision } from '../sample/trace-holder.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { SettledSegmentsWriter } from '../telemetry/settled-segments.ts';
import type { DropReason, SharedMetricsWriter } from '../telemetry/shared-metrics.ts';
import type { ForwardConfig } from './config.ts';
import { DECISIONS_PATH } from './decisions-route.ts';
import { FORWARDED_HEADER } from './forward-header.ts';

const DROP_REASON: Record<SendFailure, DropReason> = {
  rejected: 'peer_rejected',
  not_retried: 'peer_unreachable',
  retry_exhausted: 'peer_unreachable',
  shutdown: 'shutdown',
};

const REQUEST_OUTCOME = {
  ok: 'success',
  retryable: 'retryable_error',
  unauthorized: 'retryable_error',
  permanent: 'permanent_error',
} as const;

interface Batch {
  readonly records: SpanRecord[];
  readonly hops: number;
  bytes: number;
}

interface Peer {
  readonly url: string;
  /** Per hop count: the batch being filled (spans of one hop count travel together). */
  readonly filling: Map<number, Batch>;
  readonly waiting: Batch[];
  inFlight: number;
  timer: NodeJS.Timeout | undefined;
}

/** Where a batch goes when its peer is no longer a member: back through ownership, maybe to this replica. */
export type Reroute = (records: SpanRecord[], hops: number) => void;

/**
 * Sends spans owned by other replicas to them as OTLP/HTTP protobuf on their /v1/traces, from the worker
 * thread: batched per peer, a bounded number of requests in flight per peer, retries with backoff. A
 * batch whose peer leaves the membership while it waits is routed again; one whose peer keeps failing
 * is counted as dropped with a reason after max_elapsed_time.
 */
export class PeerForwarder {
  readonly #config: ForwardConfig;
  readonly #metrics: SharedMetricsWriter;
  readonly #log: Logger;
  #headers: Record<string, string> = {};
  readonly #sender: HttpSender;
  readonly #settled: SettledSegmentsWriter | undefined;
  readonly #encoder = new OtlpEncoder();
  readonly #peers = new Map<string, Peer>();
  readonly #sends = new Set<Promise<void>>();
  #isMember: (url: string) => boolean = () => true;
  #reroute: Reroute = () => {};
  #pendingBytes = 0;
  #pendingSpans = 0;

  constructor(
    config: ForwardConfig,
    metrics: SharedMetricsWriter,
    log: Logger,
    authToken: string | undefined,
    settled?: SettledSegmentsWriter,
  ) {
    this.#config = config;
    this.#settled = settled;
    this.#metrics = metrics;
    this.#log = log;
    this.setToken(authToken);
    this.#sender = new HttpSender({
      retry: config.retry_on_failure,
      timeout: config.request_timeout,
      onAttempt: (attempt) => metrics.add('forwardRequests', 1, REQUEST_OUTCOME[attempt.outcome]),
    });
  }

  /** The bearer token for later requests (rotated with receiver.auth). */
  setToken(authToken: string | undefined): void {
    this.#headers = authToken ? { authorization: `Bearer ${authToken}` } : {};
  }

  /** How to tell whether a peer is still a member, and where to send batches of peers that are not. */
  bind(isMember: (url: string) => boolean, reroute: Reroute): void {
    this.#isMember = isMember;
    this.#reroute = reroute;
  }

  add(url: string, record: SpanRecord, hops: number): void {
    if (this.#pendingBytes + record.size > this.#config.max_pending_bytes) {
      this.#drop(1, 'peer_queue_full', url, 'cluster.forward.max_pending_bytes reached');
      this.#settled?.settle([record]);
      return;
    }
    const peer = this.#peer(url);
    let batch = peer.filling.get(hops);
    if (!batch) {
      batch = { records: [], hops, bytes: 0 };
      peer.filling.set(hops, batch);
    }
    batch.records.push(record);
    batch.bytes += record.size;
    this.#pending(1, record.size);
    if (batch.records.length >= this.#config.send_batch_size) {
      peer.filling.delete(hops);
      this.#enqueue(peer, batch);
    } else {
      peer.timer ??= setTimeout(() => this.#flush(peer), this.#config.timeout);
    }
  }

  /** Sends every partial batch now. */
  flushAll(): void {
    for (const peer of this.#peers.values()) this.#flush(peer);
  }

  /** Resolves when every batch is delivered, re-routed or counted, or at the deadline (the rest counted). */
  async drain(deadline: number): Promise<void> {
    this.#sender.stopBy(deadline);
    // Batches routed again while draining start filling anew: flush until nothing is left.
    while ((this.#pendingSpans > 0 || this.#sends.size > 0) && Date.now() < deadline) {
      this.flushAll();
      await Promise.race([Promise.all(this.#sends), atDeadline(deadline, undefined)]);
    }
    if (this.#pendingSpans > 0) {
      this.#drop(this.#pendingSpans, 'shutdown', 'all', 'shutdown deadline reached while forwarding');
      this.#sender.abandon();
    }
  }

  #peer(url: string): Peer {
    let peer = this.#peers.get(url);
    if (!peer) {
      peer = { url, filling: new Map(), waiting: [], inFlight: 0, timer: undefined };
      this.#peers.set(url, peer);
    }
    return peer;
  }

  #flush(peer: Peer): void {
    clearTimeout(peer.timer);
    peer.timer = undefined;
    for (const batch of peer.filling.values()) this.#enqueue(peer, batch);
    peer.filling.clear();
  }

  #enqueue(peer: Peer, batch: Batch): void {
    peer.waiting.push(batch);
    this.#pump(peer);
  }

  #pump(peer: Peer): void {
    while (peer.inFlight < this.#config.max_in_flight && peer.waiting.length > 0) {
      const batch = peer.waiting.shift() as Batch;
      peer.inFlight++;
      const sending = this.#send(peer.url, batch).finally(() => {
        peer.inFlight--;
        this.#sends.delete(sending);
        this.#pending(-batch.records.length, -batch.bytes);
        this.#pump(peer);
      });
      this.#sends.add(sending);
    }
  }

  async #send(url: string, batch: Batch): Promise<void> {
    const spans = batch.records.length;
    const delivery = await this.#deliver(
      url,
      '/v1/traces',
      { 'content-type': PROTOBUF, [FORWARDED_HEADER]: String(batch.hops) },
      this.#encoder.encode(batch.records),
    );
    switch (delivery.outcome) {
      case 'delivered':
        // The owner acknowledged them (with its own write-ahead log, once they were on its disk).
        this.#metrics.add('spansForwarded', spans);
        this.#settled?.settle(batch.records);
        break;
      case 'dropped':
        this.#drop(spans, DROP_REASON[delivery.cause], url, delivery.detail);
        this.#settled?.settle(batch.records);
        break;
      case 'unwanted':
        this.#reroute(batch.records, batch.hops);
        break;
      // abandoned: counted as dropped at the shutdown deadline; kept: never asked for.
    }
  }

  /**
   * Hands decisions to a trace's new owner (POST /v1/cluster/decisions, JSON) with the same retries.
   * Decisions carry no spans, so one that cannot be delivered is only logged.
   */
  async sendDecisions(url: string, decisions: readonly SharedDecision[]): Promise<void> {
    const body = Buffer.from(JSON.stringify({ decisions }));
    const sending = this.#deliver(url, DECISIONS_PATH, { 'content-type': JSON_TYPE }, body).then(
      (delivery) => {
        if (delivery.outcome === 'dropped') {
          this.#log.warn(
            { peer: url, decisions: decisions.length, detail: delivery.detail },
            'decisions not handed over',
          );
        }
      },
    );
    this.#sends.add(sending);
    await sending;
    this.#sends.delete(sending);
  }

  /** One request with retries while the peer stays a member, until max_elapsed_time or the shutdown deadline. */
  #deliver(url: string, path: string, headers: Record<string, string>, body: Uint8Array): Promise<Delivery> {
    return this.#sender.deliver(
      { url: `${url}${path}`, headers: { ...this.#headers, ...headers }, body },
      { wanted: () => this.#isMember(url) },
    );
  }

  #pending(spans: number, bytes: number): void {
    this.#pendingSpans += spans;
    this.#pendingBytes += bytes;
    this.#metrics.set('forwardPendingSpans', this.#pendingSpans);
  }

  #drop(spans: number, reason: DropReason, peer: string, detail: string): void {
    this.#metrics.add('spansDropped', spans, reason);
    this.#log.warn({ spans, reason, peer, detail }, 'spans for a peer dropped');
  }
}
