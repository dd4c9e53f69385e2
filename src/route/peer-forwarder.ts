import { setTimeout as sleep } from 'node:timers/promises';
import { OtlpEncoder } from '../export/otlp-encoder.ts';
import { backoffDelay, parseRetryAfter, RETRYABLE_STATUS, type RetryConfig } from '../lib/retry.ts';
import type { SpanRecord } from '../model/span.ts';
import type { SharedDecision } from '../sample/trace-holder.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { SharedMetricsWriter } from '../telemetry/shared-metrics.ts';
import type { ForwardConfig } from './config.ts';
import { DECISIONS_PATH } from './decisions-route.ts';
import { FORWARDED_HEADER } from './forward-header.ts';

type DropReason = 'peer_unreachable' | 'peer_rejected' | 'peer_queue_full' | 'shutdown';

interface PeerRequest {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array | string;
}

type Attempt =
  | { ok: true }
  | { ok: false; retryable: boolean; retryAfter: number | undefined; detail: string };

type Outcome = 'delivered' | 'not_member' | 'abandoned' | { reason: DropReason; detail: string };

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
  readonly #retry: RetryConfig;
  readonly #encoder = new OtlpEncoder();
  readonly #peers = new Map<string, Peer>();
  readonly #sends = new Set<Promise<void>>();
  #isMember: (url: string) => boolean = () => true;
  #reroute: Reroute = () => {};
  #pendingBytes = 0;
  #pendingSpans = 0;
  #stopAt = Number.POSITIVE_INFINITY;
  // Set at the shutdown deadline: what was still in flight was counted as dropped then.
  #abandoned = false;

  constructor(
    config: ForwardConfig,
    metrics: SharedMetricsWriter,
    log: Logger,
    authToken: string | undefined,
  ) {
    this.#config = config;
    this.#metrics = metrics;
    this.#log = log;
    this.setToken(authToken);
    this.#retry = { ...config.retry_on_failure, enabled: true, multiplier: 2, randomization_factor: 0.5 };
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
    this.#stopAt = deadline;
    // Batches routed again while draining start filling anew: flush until nothing is left.
    while ((this.#pendingSpans > 0 || this.#sends.size > 0) && Date.now() < deadline) {
      this.flushAll();
      await Promise.race([
        Promise.all(this.#sends),
        sleep(Math.max(0, deadline - Date.now()), undefined, { ref: false }),
      ]);
    }
    if (this.#pendingSpans > 0) {
      this.#drop(this.#pendingSpans, 'shutdown', 'all', 'shutdown deadline reached while forwarding');
      this.#abandoned = true;
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
    const request: PeerRequest = {
      path: '/v1/traces',
      headers: { 'content-type': 'application/x-protobuf', [FORWARDED_HEADER]: String(batch.hops) },
      body: this.#encoder.encode(batch.records),
    };
    const outcome = await this.#deliver(url, request);
    if (outcome === 'not_member') this.#reroute(batch.records, batch.hops);
    else if (outcome === 'delivered') this.#metrics.add('spansForwarded', spans);
    else if (outcome !== 'abandoned') this.#drop(spans, outcome.reason, url, outcome.detail);
  }

  /**
   * Hands decisions to a trace's new owner (POST /v1/cluster/decisions, JSON) with the same retries.
   * Decisions carry no spans, so one that cannot be delivered is only logged.
   */
  async sendDecisions(url: string, decisions: readonly SharedDecision[]): Promise<void> {
    const request: PeerRequest = {
      path: DECISIONS_PATH,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ decisions }),
    };
    const sending = this.#deliver(url, request).then((outcome) => {
      if (typeof outcome === 'object') {
        this.#log.warn(
          { peer: url, decisions: decisions.length, detail: outcome.detail },
          'decisions not handed over',
        );
      }
    });
    this.#sends.add(sending);
    await sending;
    this.#sends.delete(sending);
  }

  /** One request with retries while the peer stays a member, until max_elapsed_time or the shutdown deadline. */
  async #deliver(url: string, request: PeerRequest): Promise<Outcome> {
    const started = Date.now();
    for (let retry = 0; ; retry++) {
      if (!this.#isMember(url)) return 'not_member';
      const result = await this.#attempt(url, request);
      if (this.#abandoned) return 'abandoned';
      if (result.ok) {
        this.#metrics.add('forwardRequests', 1, 'success');
        return 'delivered';
      }
      if (!result.retryable) {
        this.#metrics.add('forwardRequests', 1, 'permanent_error');
        return { reason: 'peer_rejected', detail: result.detail };
      }
      this.#metrics.add('forwardRequests', 1, 'retryable_error');
      const delay = result.retryAfter ?? backoffDelay(this.#retry, retry);
      if (Date.now() + delay - started > this.#retry.max_elapsed_time) {
        return { reason: 'peer_unreachable', detail: result.detail };
      }
      if (Date.now() + delay > this.#stopAt) {
        return { reason: 'shutdown', detail: `${result.detail}; shutdown deadline reached` };
      }
      await sleep(delay);
    }
  }

  async #attempt(url: string, request: PeerRequest): Promise<Attempt> {
    try {
      const response = await fetch(`${url}${request.path}`, {
        method: 'POST',
        headers: { ...this.#headers, ...request.headers },
        body: request.body,
        signal: AbortSignal.timeout(this.#config.request_timeout),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { ok: true };
      return {
        ok: false,
        retryable: RETRYABLE_STATUS.has(response.status),
        retryAfter: parseRetryAfter(response.headers.get('retry-after')),
        detail: `HTTP ${response.status}`,
      };
    } catch (err) {
      return { ok: false, retryable: true, retryAfter: undefined, detail: (err as Error).message };
    }
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
