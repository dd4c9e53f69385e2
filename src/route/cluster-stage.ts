import type { SpanRecord } from '../model/span.ts';
import type { SpanProcessor } from '../model/span-processor.ts';
import type { SharedDecision, TraceHolder } from '../sample/trace-holder.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { SettledSegmentsWriter } from '../telemetry/settled-segments.ts';
import type { SharedMetricsWriter } from '../telemetry/shared-metrics.ts';
import { type ClusterConfig, clusterEnabled } from './config.ts';
import { MAX_HOPS } from './forward-header.ts';
import { PeerForwarder } from './peer-forwarder.ts';
import { Rendezvous } from './rendezvous.ts';

/** About 100 bytes of JSON each: requests stay well under the default receiver.max_request_body_size. */
const DECISIONS_PER_REQUEST = 5000;

/**
 * The first stage of a shard's pipeline when replicas form a cluster: spans of traces this replica
 * owns (by rendezvous hashing of the trace id over the current members) go on to the tail sampler;
 * the rest are forwarded to their owner. On every membership change, undecided traces and remembered
 * decisions that now belong to another member are handed over to it, so a trace is decided once, where
 * all its spans are.
 */
export class ClusterStage implements SpanProcessor {
  readonly #self: string;
  readonly #next: SpanProcessor & TraceHolder;
  readonly #forwarder: PeerForwarder;
  readonly #metrics: SharedMetricsWriter;
  readonly #log: Logger;
  #ring: Rendezvous;
  #members = new Set<string>();

  constructor(
    self: string,
    next: SpanProcessor & TraceHolder,
    forwarder: PeerForwarder,
    metrics: SharedMetricsWriter,
    log: Logger,
  ) {
    this.#self = self;
    this.#next = next;
    this.#forwarder = forwarder;
    this.#metrics = metrics;
    this.#log = log;
    this.#ring = new Rendezvous([self]);
    this.#members.add(self);
    forwarder.bind(
      (url) => this.#members.has(url),
      // A batch carries the hop count of its next hop; routing again starts from the one before.
      (records, hops) => this.#route(records, hops - 1),
    );
  }

  /** Spans from clients (hops 0) or from peers: owned ones go on, the others to their owner. */
  consume(records: readonly SpanRecord[], hops = 0): void {
    if (hops > 0) this.#metrics.add('spansFromPeers', records.length);
    this.#route(records, hops);
  }

  /** Whether this replica decides the trace: #route would keep its spans here now. */
  owns(traceId: string): boolean {
    const owner = this.#ring.ownerOf(traceId);
    return owner === undefined || owner === this.#self || this.#next.holds(traceId);
  }

  #route(records: readonly SpanRecord[], hops: number): void {
    if (hops >= MAX_HOPS) {
      this.#next.consume(records);
      return;
    }
    const local: SpanRecord[] = [];
    for (const record of records) {
      const traceId = record.span.traceId;
      const owner = this.#ring.ownerOf(traceId);
      // A trace held here stays here: its decision is made (or was made) here, and late spans follow it.
      if (owner === undefined || owner === this.#self || this.#next.holds(traceId)) local.push(record);
      else this.#forwarder.add(owner, record, hops + 1);
    }
    if (local.length > 0) this.#next.consume(local);
  }

  /** A new membership view from the main thread. */
  setMembers(members: readonly string[]): void {
    this.#members = new Set(members);
    this.#ring = new Rendezvous(members);
    const moves = (traceId: string) => {
      const owner = this.#ring.ownerOf(traceId);
      return owner !== undefined && owner !== this.#self;
    };
    // Decisions first: late spans that reach the new owner before the handed-over ones follow them.
    const decisions = Map.groupBy(
      this.#next.decisionsFor(moves),
      (decision) => this.#ring.ownerOf(decision.traceId) as string,
    );
    for (const [owner, list] of decisions) {
      for (let i = 0; i < list.length; i += DECISIONS_PER_REQUEST) {
        void this.#forwarder.sendDecisions(owner, list.slice(i, i + DECISIONS_PER_REQUEST));
      }
    }
    const traces = this.#next.takeUndecided(moves);
    for (const spans of traces) {
      const owner = this.#ring.ownerOf((spans[0] as SpanRecord).span.traceId) as string;
      for (const record of spans) this.#forwarder.add(owner, record, 1);
    }
    this.#forwarder.flushAll();
    this.#metrics.add('tracesHandedOver', traces.length);
    if (traces.length > 0 || decisions.size > 0) {
      this.#log.info(
        { members: members.length, traces: traces.length, decisions: [...decisions.values()].flat().length },
        'membership changed: handed over traces that moved',
      );
    }
  }

  /** The bearer token presented to peers from now on (receiver.auth tokens rotate). */
  setPeerToken(token: string | undefined): void {
    this.#forwarder.setToken(token);
  }

  /** Decisions a trace's previous owner handed over. */
  adopt(decisions: readonly SharedDecision[]): void {
    const conflicts = this.#next.adopt(decisions);
    if (conflicts.length > 0) {
      this.#metrics.add('decisionConflicts', conflicts.length);
      this.#log.warn({ traces: conflicts }, 'traces decided on two replicas during a membership change');
    }
  }

  /**
   * Shutdown: this replica leaves. Everything it holds goes to the new owners (the members without it)
   * before the sampler drains; only when no other member remains does it decide what it holds itself.
   */
  async drain(deadline: number): Promise<void> {
    const others = [...this.#members].filter((member) => member !== this.#self);
    if (others.length > 0) this.setMembers(others);
    await this.#forwarder.drain(deadline);
    await this.#next.drain(deadline);
  }
}

/** The cluster stage for a worker shard, when the relay is configured as one of several replicas. */
export function clusterStage(
  config: ClusterConfig,
  peerToken: string | undefined,
  next: SpanProcessor & TraceHolder,
  metrics: SharedMetricsWriter,
  log: Logger,
  settled?: SettledSegmentsWriter,
): ClusterStage | undefined {
  if (!clusterEnabled(config)) return undefined;
  const forwarder = new PeerForwarder(config.forward, metrics, log, peerToken, settled);
  return new ClusterStage(config.self, next, forwarder, metrics, log);
}
