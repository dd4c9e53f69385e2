import type { SpanRecord } from '../model/span.ts';
import type { SpanProcessor } from '../model/span-processor.ts';
import type { SamplingMetricsWriter } from '../telemetry/sampling-metrics.ts';
import type { SettledSegmentsWriter } from '../telemetry/settled-segments.ts';
import type { SharedMetricsWriter } from '../telemetry/shared-metrics.ts';
import { DeadlineQueue } from './deadline-queue.ts';
import { DecisionCache, type Keep, keepOf } from './decision-cache.ts';
import { EVIDENCE_VERDICT, Evidence } from './evidence.ts';
import { type HeldBeacon, heldSpans, type ReadHeldBeacon } from './held-beacon.ts';
import { PolicySet } from './policies.ts';
import type { Clock, Trace } from './policy.ts';
import { type SamplingSetup, shardLimits } from './sampling-setup.ts';
import { type BufferedTrace, TraceBuffer } from './trace-buffer.ts';
import { spanFacts, type TraceFacts, traceFacts } from './trace-facts.ts';
import type { SharedDecision, TraceHolder } from './trace-holder.ts';
import { TraceOutcomes } from './trace-outcomes.ts';

/** Calls `fn` after `delayMs`; returns a cancel function. Injectable so tests drive time themselves. */
export type Scheduler = (delayMs: number, fn: () => void) => () => void;

const timerScheduler: Scheduler = (delay, fn) => {
  const timer = setTimeout(fn, delay);
  return () => clearTimeout(timer);
};

/** Told every decision, once per trace (and again for late spans that follow a cached one). */
export type DecisionListener = (traceId: string, kept: boolean) => void;

type EarlyReason = 'root' | 'size' | 'memory' | 'span_ingest' | 'shutdown';
type Reason = 'wait' | EarlyReason;

/** Traces among the oldest from which memory pressure picks the largest to decide early. */
const VICTIM_WINDOW = 8;
const NO_KEEP: Keep = { policy: undefined, threshold: undefined };

/** This shard's part of the decision cache; none without sampling. */
function cacheFor(setup: SamplingSetup | undefined): DecisionCache {
  const sizes = setup?.config.decision_cache;
  const shards = setup?.shards ?? 1;
  return new DecisionCache(
    Math.ceil((sizes?.sampled_cache_size ?? 0) / shards),
    Math.ceil((sizes?.non_sampled_cache_size ?? 0) / shards),
  );
}

interface Active {
  setup: SamplingSetup;
  policies: PolicySet;
  limits: { traces: number; bytes: number };
}

/**
 * The tail sampler of one worker shard, before the batch processor: holds spans per trace, decides each
 * trace once with the configured policies and hands kept spans on. Without a tail_sampling config it
 * passes everything through.
 */
export class TailSampler implements SpanProcessor, TraceHolder {
  readonly #next: SpanProcessor;
  readonly #metrics: SharedMetricsWriter;
  readonly #policyMetrics: SamplingMetricsWriter;
  readonly #clock: Clock;
  readonly #schedule: Scheduler;
  readonly #buffer = new TraceBuffer();
  readonly #queue = new DeadlineQueue();
  #cache: DecisionCache;
  #active: Active | undefined;
  #cancelTimer: (() => void) | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  readonly #outcomes: TraceOutcomes;
  /**
   * A stage before this one that waits on decisions (version health publishes exemplars of kept traces
   * only); set by the wiring, so that no earlier stage imports this one.
   */
  onDecision: DecisionListener | undefined;
  /** Reads a held beacon's spans (set by the wiring); without it, beacons come as spans through consume. */
  readBeacon: ReadHeldBeacon | undefined;
  /**
   * Set by the wiring when a stage before this one counts every span it reads (version health): then
   * every held beacon is read, dropped or kept. Otherwise a trace its policies drop on its facts
   * (trace-facts.ts) is never read.
   */
  readEveryBeacon = false;
  /** Versions whose every trace is kept (the version judge's evidence; set by a message from the main thread). */
  readonly evidence = new Evidence();

  constructor(
    setup: SamplingSetup | undefined,
    next: SpanProcessor,
    metrics: SharedMetricsWriter,
    policyMetrics: SamplingMetricsWriter,
    settled: SettledSegmentsWriter | undefined,
    clock: Clock = Date.now,
    schedule: Scheduler = timerScheduler,
  ) {
    this.#next = next;
    this.#metrics = metrics;
    this.#policyMetrics = policyMetrics;
    this.#outcomes = new TraceOutcomes(metrics, settled);
    this.#clock = clock;
    this.#schedule = schedule;
    this.#cache = cacheFor(setup);
    this.#active = setup && this.#activate(setup);
  }

  #activate(setup: SamplingSetup): Active {
    return {
      setup,
      policies: new PolicySet(setup.config, 1 / setup.shards, this.#clock),
      limits: shardLimits(setup),
    };
  }

  /**
   * New policies from a reload. Buffered traces stay and are decided by the new policies when due;
   * without a tail_sampling block any more, they are decided now by the old ones and later spans pass.
   */
  reconfigure(setup: SamplingSetup | undefined): void {
    if (!setup) this.#decideAll();
    if (setup && !this.#active) this.#cache = cacheFor(setup);
    this.#active = setup && this.#activate(setup);
    this.#flushKept();
  }

  consume(records: readonly SpanRecord[]): void {
    const active = this.#active;
    if (!active) {
      this.#next.consume(records);
      return;
    }
    const now = this.#clock();
    const touched = new Set<BufferedTrace>();
    let cachedTrace = '';
    for (const record of records) {
      const traceId = record.span.traceId;
      let trace = this.#buffer.get(traceId);
      if (!trace) {
        const cached = this.#cache.get(traceId);
        if (cached !== undefined) {
          this.#late(traceId, [record], cached, traceId !== cachedTrace, active);
          cachedTrace = traceId;
          continue;
        }
        trace = this.#open(traceId, now, active);
      }
      this.#buffer.add(trace, record);
      touched.add(trace);
    }
    this.#added(touched, now, active);
  }

  /**
   * Whether beacons may be held as text (hold): with policies that decide once per trace, and the
   * wiring's reader. A span-ingest strategy evaluates every arrival, so it needs the spans at once.
   */
  get holdsBeacons(): boolean {
    return this.readBeacon !== undefined && this.#active?.setup.config.sampling_strategy === 'trace-complete';
  }

  /** Holds beacons as their text until their trace is decided; a late one is read at once. */
  hold(beacons: readonly HeldBeacon[]): void {
    const active = this.#active;
    const read = this.readBeacon as ReadHeldBeacon;
    if (!active || !this.holdsBeacons) {
      for (const beacon of beacons) this.consume(read(beacon));
      return;
    }
    const now = this.#clock();
    const touched = new Set<BufferedTrace>();
    let cachedTrace = '';
    for (const beacon of beacons) {
      const { traceId } = beacon;
      let trace = this.#buffer.get(traceId);
      if (!trace) {
        const cached = this.#cache.get(traceId);
        if (cached !== undefined) {
          this.#lateBeacon(beacon, cached, traceId !== cachedTrace, active);
          cachedTrace = traceId;
          continue;
        }
        trace = this.#open(traceId, now, active);
      }
      this.#buffer.addHeld(trace, beacon);
      touched.add(trace);
    }
    this.#added(touched, now, active);
  }

  #open(traceId: string, now: number, active: Active): BufferedTrace {
    const wait = active.setup.config.decision_wait;
    const trace = this.#buffer.open(traceId, now, now + wait);
    this.#queue.push(trace, wait);
    this.#metrics.add('newTraces', 1);
    return trace;
  }

  #added(touched: Set<BufferedTrace>, now: number, active: Active): void {
    for (const trace of touched) this.#afterIngest(trace, now, active);
    this.#enforceBounds(active);
    this.#flushKept();
    this.#arm();
  }

  /** Reads the trace's held beacons into its spans: every way out of the buffer needs them. */
  #read(trace: BufferedTrace): void {
    const { held } = trace;
    if (held === undefined) return;
    trace.held = undefined;
    const read = this.readBeacon as ReadHeldBeacon;
    for (const beacon of held) for (const record of read(beacon)) trace.spans.push(record);
  }

  /** Counts late spans of a decided trace; the first of its trace in a batch (`newTrace`) tells the hook. */
  #lateSpans(traceId: string, spans: number, cached: Keep | 'dropped', newTrace: boolean): void {
    this.#outcomes.late(spans, cached, newTrace);
    if (newTrace) this.onDecision?.(traceId, cached !== 'dropped');
  }

  /** Late spans of a trace decided before go the cached decision's way. */
  #late(
    traceId: string,
    records: readonly SpanRecord[],
    cached: Keep | 'dropped',
    newTrace: boolean,
    active: Active,
  ): void {
    this.#lateSpans(traceId, records.length, cached, newTrace);
    if (cached === 'dropped') this.#outcomes.sampledOut(records, undefined);
    else this.#outcomes.kept(records, cached, active.setup.config.record_policy);
  }

  /** A late beacon of a dropped trace needs no reading (unless every span is counted); a kept one is read. */
  #lateBeacon(beacon: HeldBeacon, cached: Keep | 'dropped', newTrace: boolean, active: Active): void {
    if (cached === 'dropped' && !this.readEveryBeacon) {
      this.#lateSpans(beacon.traceId, heldSpans(beacon), cached, newTrace);
      this.#outcomes.sampledOut([], [beacon]);
      return;
    }
    this.#late(beacon.traceId, (this.readBeacon as ReadHeldBeacon)(beacon), cached, newTrace, active);
  }

  /** What the policies see of a trace; reading its held beacons first when their facts cannot tell. */
  #view(trace: BufferedTrace): Trace {
    let facts: TraceFacts | undefined = traceFacts(trace.spans, trace.held);
    if (facts === undefined) {
      this.#read(trace);
      facts = spanFacts(trace.spans);
    }
    return { traceId: trace.traceId, spans: trace.spans, bytes: trace.bytes, facts };
  }

  #afterIngest(trace: BufferedTrace, now: number, active: Active): void {
    const config = active.setup.config;
    const overBytes = config.maximum_trace_size_bytes > 0 && trace.bytes > config.maximum_trace_size_bytes;
    const overSpans = config.max_spans_per_trace > 0 && trace.count > config.max_spans_per_trace;
    if (overBytes || overSpans) {
      this.#decide(trace, 'size', active);
      return;
    }
    if (
      config.sampling_strategy === 'span-ingest' &&
      active.policies.evaluate(this.#view(trace)).outcome !== 'not_sampled'
    ) {
      this.#decide(trace, 'span_ingest', active);
      return;
    }
    const afterRoot = config.decision_wait_after_root_received;
    if (trace.rootSeen && trace.dueBecause === 'wait' && afterRoot > 0 && now + afterRoot < trace.deadline) {
      trace.deadline = now + afterRoot;
      trace.dueBecause = 'root';
      this.#queue.push(trace, afterRoot);
    }
  }

  /** Over num_traces or max_buffered_bytes, decides old, large traces early instead of evicting any. */
  #enforceBounds(active: Active): void {
    const { traces, bytes } = active.limits;
    while (this.#buffer.size > traces || this.#buffer.bytes > bytes) {
      const victim = this.#buffer.victim(VICTIM_WINDOW);
      if (!victim) break;
      this.#decide(victim, 'memory', active);
    }
  }

  #decide(trace: BufferedTrace, reason: Reason, active: Active): void {
    const { setup, policies } = active;
    // Held beacons are read before the decision only where something needs their spans for it.
    if (policies.readsSpans || this.readEveryBeacon) this.#read(trace);
    let verdict = policies.evaluate(this.#view(trace), (index, outcome) =>
      this.#policyMetrics.decision(setup.slots[index] as number, outcome),
    );
    if (verdict.outcome === 'not_sampled' && this.evidence.active) {
      this.#read(trace);
      if (this.evidence.holds(trace.spans)) {
        verdict = EVIDENCE_VERDICT;
        this.#metrics.add('versionEvidenceTraces', 1);
      }
    }
    // Kept spans are read before anyone hears of the decision (version health counts them as they are read).
    if (verdict.outcome === 'sampled') this.#read(trace);
    this.#buffer.remove(trace);
    this.#metrics.add('tracesDecided', 1, verdict.outcome);
    if (reason !== 'wait') this.#metrics.add('tracesDecidedEarly', 1, reason);
    this.#policyMetrics.latency((this.#clock() - trace.firstArrival) / 1000);
    this.onDecision?.(trace.traceId, verdict.outcome === 'sampled');
    if (verdict.outcome !== 'sampled') {
      this.#cache.drop(trace.traceId);
      this.#outcomes.sampledOut(trace.spans, trace.held);
      return;
    }
    const keep: Keep =
      verdict.threshold === undefined && !setup.config.record_policy
        ? NO_KEEP
        : { policy: verdict.policy, threshold: verdict.threshold };
    this.#cache.keep(trace.traceId, keep);
    this.#outcomes.kept(trace.spans, keep, setup.config.record_policy);
  }

  /** Decides every trace that is due; the shard's one timer calls it. */
  tick(): void {
    this.#cancelTimer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const active = this.#active;
    if (active) {
      const now = this.#clock();
      this.#queue.popDue(now, (trace, at) => {
        // Entries left behind when a trace was decided or its deadline moved are skipped.
        if (trace.buffered && trace.deadline === at) this.#decide(trace, trace.dueBecause, active);
      });
      this.#flushKept();
    }
    this.#arm();
  }

  #arm(): void {
    const next = this.#queue.peek();
    if (next === undefined || next >= this.#timerAt) return;
    this.#cancelTimer?.();
    this.#timerAt = next;
    this.#cancelTimer = this.#schedule(Math.max(0, next - this.#clock()), () => this.tick());
  }

  #decideAll(): void {
    const active = this.#active;
    if (!active) return;
    for (const trace of this.#buffer.all()) this.#decide(trace, 'shutdown', active);
    this.#queue.clear();
  }

  #flushKept(): void {
    this.#metrics.set('bufferedTraces', this.#buffer.size);
    this.#metrics.set('bufferedSpans', this.#buffer.spans);
    this.#metrics.set('bufferedBytes', this.#buffer.bytes);
    const kept = this.#outcomes.take();
    if (kept) this.#next.consume(kept);
  }

  // Cluster hand-over (cluster/handover.ts): when a trace's owner changes, its spans and decision move.

  holds(traceId: string): boolean {
    return this.#buffer.get(traceId) !== undefined || this.#cache.get(traceId) !== undefined;
  }

  takeUndecided(moves: (traceId: string) => boolean): SpanRecord[][] {
    const taken: SpanRecord[][] = [];
    for (const trace of this.#buffer.all()) {
      if (!moves(trace.traceId)) continue;
      this.#buffer.remove(trace);
      this.#read(trace);
      taken.push(trace.spans);
    }
    this.#flushKept();
    return taken;
  }

  decisionsFor(moves: (traceId: string) => boolean): SharedDecision[] {
    return this.#cache.shared(moves);
  }

  /** A buffered trace takes the handed-over decision now; a trace already decided here is a conflict. */
  adopt(decisions: readonly SharedDecision[]): string[] {
    const active = this.#active;
    if (!active) return [];
    const conflicts: string[] = [];
    for (const decision of decisions) {
      const trace = this.#buffer.get(decision.traceId);
      if (!trace && this.#cache.get(decision.traceId) !== undefined) {
        conflicts.push(decision.traceId);
        continue;
      }
      const keep = keepOf(decision);
      if (decision.sampled) this.#cache.keep(decision.traceId, keep);
      else this.#cache.drop(decision.traceId);
      if (!trace) continue;
      this.#buffer.remove(trace);
      if (decision.sampled || this.readEveryBeacon) this.#read(trace);
      this.onDecision?.(decision.traceId, decision.sampled);
      if (decision.sampled) this.#outcomes.kept(trace.spans, keep, active.setup.config.record_policy);
      else this.#outcomes.sampledOut(trace.spans, trace.held);
    }
    this.#flushKept();
    return conflicts;
  }

  /** Decides every buffered trace at once (nothing is dropped for want of time), then drains the next stage. */
  async drain(deadline: number): Promise<void> {
    this.#cancelTimer?.();
    this.#decideAll();
    this.#flushKept();
    await this.#next.drain(deadline);
  }
}
