import { Gauge, type Registry } from 'prom-client';
import { spansHeldByWorkers, spansSettled } from '../telemetry/accounting.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { SharedMetricsReader } from '../telemetry/shared-metrics.ts';
import type { MemoryLimits } from './memory-limit.ts';

/** Shed when any shard's sending queue is this full, and stop again below the second level. */
const QUEUE_SHED_AT = 0.9;
const QUEUE_RESUME_AT = 0.8;
/** Bounds of the Retry-After we ask for, in seconds. */
const MIN_RETRY_AFTER = 1;
const MAX_RETRY_AFTER = 30;
/** Weight of the newest drain-rate sample in the moving average. */
const RATE_WEIGHT = 0.3;

export const REASONS = ['memory', 'storage', 'queue'] as const;
type Why = (typeof REASONS)[number];

export interface AdmissionSources {
  limits: MemoryLimits;
  shared: SharedMetricsReader;
  /** Bytes of accepted data handed to a shard and not yet taken up by it. */
  handoffPending: (shard: number) => number;
  /** Memory in use over all threads and the process RSS (memory-use.ts), sampled at `now`. */
  memory: (now: number) => { used: number; rss: number };
  registry: Registry;
  log: Logger;
  /** Called with every decision: receiver threads read it from shared memory (admission-flag.ts). */
  publish?: (decision: Pick<Admission, 'shedding' | 'retryAfter' | 'why'>) => void;
}

/**
 * Decides whether the receiver takes new data. A timer samples memory (heap and array buffers of
 * every thread against the memory limiter's soft limit, RSS against a guard near the container's
 * limit), the health of each shard's storage and the fill of its sending queue, and sets `shedding` and
 * `retryAfter`; the ack path only reads those two fields, so refusing costs nothing extra per request.
 * Retry-After is the time the current drain rate (spans exported, dropped or sampled out per second)
 * needs to take the relay back under the level where it sheds.
 */
export class Admission {
  shedding = false;
  retryAfter = MIN_RETRY_AFTER;
  why: Why | undefined;
  /**
   * A persistent queue cannot write its storage, whatever else the replica sheds for: unlike memory or a full
   * queue, it does not clear as the backlog drains, so /readyz says so and traffic moves to other replicas.
   */
  storageFailing = false;
  readonly #sources: AdmissionSources;
  readonly #gauge: Gauge<'reason'>;
  readonly #used: Gauge;
  #timer: NodeJS.Timeout | undefined;
  #lastLeft = 0;
  #lastAt = 0;
  #rate = 0;
  /** Each shard's spans taken up at the last check: what arrived in one interval, expected again. */
  readonly #lastIngested: number[] = [];

  constructor(sources: AdmissionSources) {
    this.#sources = sources;
    this.#gauge = new Gauge({
      name: 'edge_relay_admission_shedding',
      help: 'Whether the receiver refuses new data (429), by reason: memory over the soft limit, a persistent queue that cannot write its storage, or a sending queue nearly full',
      labelNames: ['reason'],
      registers: [sources.registry],
    });
    const limit = new Gauge({
      name: 'edge_relay_memory_limit_bytes',
      help: 'The memory limiter: memory in use above `soft` is refused new data, above `hard` collected without pause; RSS above `rss` is refused new data',
      labelNames: ['kind'],
      registers: [sources.registry],
    });
    limit.set({ kind: 'soft' }, sources.limits.soft);
    limit.set({ kind: 'hard' }, sources.limits.hard);
    limit.set({ kind: 'rss' }, sources.limits.rss);
    this.#used = new Gauge({
      name: 'edge_relay_memory_used_bytes',
      help: 'What the memory limiter decides on: V8 heap in use plus ArrayBuffer bytes, over the main thread and every worker, at the last check',
      registers: [sources.registry],
    });
    for (const reason of REASONS) this.#gauge.set({ reason }, 0);
  }

  start(intervalMs: number): void {
    this.check(Date.now());
    this.#timer = setInterval(() => this.check(Date.now()), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** One sample: updates the drain rate and the shedding decision. */
  check(now: number): void {
    const { shared, limits } = this.#sources;
    const left = spansSettled(shared);
    if (this.#lastAt > 0 && now > this.#lastAt) {
      const sample = ((left - this.#lastLeft) * 1000) / (now - this.#lastAt);
      this.#rate = this.#rate === 0 ? sample : RATE_WEIGHT * sample + (1 - RATE_WEIGHT) * this.#rate;
    }
    this.#lastLeft = left;
    this.#lastAt = now;

    const { used, rss } = this.#sources.memory(now);
    this.#used.set(used);
    let fill = 0;
    for (let shard = 0; shard < shared.workers; shard++) {
      const ingested = shared.read('spansIngested', undefined, shard);
      const last = this.#lastIngested[shard];
      this.#lastIngested[shard] = ingested;
      const arriving = last === undefined ? 0 : Math.max(0, ingested - last);
      fill = Math.max(fill, projectedFill(shared, shard, this.#sources.handoffPending(shard), arriving));
    }
    const queueOver = fill >= QUEUE_SHED_AT || (this.why === 'queue' && fill >= QUEUE_RESUME_AT);
    this.storageFailing = shared.read('storageFailing') > 0;
    const why: Why | undefined =
      used > limits.soft || rss > limits.rss
        ? 'memory'
        : this.storageFailing
          ? 'storage'
          : queueOver
            ? 'queue'
            : undefined;
    // Storage comes back as the backend drains the queue (or an operator frees space): ask for the
    // time the whole backlog needs.
    const overshoot =
      why === 'memory'
        ? Math.max((used - limits.soft * 0.9) / used, (rss - limits.rss * 0.9) / rss)
        : why === 'queue'
          ? (fill - QUEUE_RESUME_AT) / fill
          : why === 'storage'
            ? 1
            : 0;
    this.retryAfter = retryAfterSeconds(spansHeldByWorkers(shared) * overshoot, this.#rate);
    if (why !== this.why) this.#announce(why, { used, rss }, fill);
    this.why = why;
    this.shedding = why !== undefined;
    for (const reason of REASONS) this.#gauge.set({ reason }, why === reason ? 1 : 0);
    this.#sources.publish?.(this);
  }

  #announce(why: Why | undefined, memory: { used: number; rss: number }, fill: number): void {
    const state = {
      memory_used: memory.used,
      rss: memory.rss,
      soft_limit: this.#sources.limits.soft,
      queue_fill: fill,
      retry_after: this.retryAfter,
    };
    if (why)
      this.#sources.log.warn({ ...state, reason: why }, 'refusing new data (429) until the relay drains');
    else this.#sources.log.info(state, 'accepting new data again');
  }
}

/**
 * A shard's queue fill counting what is on its way to a persistent queue too: spans in the hand-off,
 * in the batcher, or being compressed by the exporter, at the bytes per span of what is on disk. Under
 * load the workers can lag the receiver by more than the queue's headroom, and every acknowledged span
 * must still find room on the disk. Until a shard has taken anything up, hand-off bytes count one for
 * one (JSON or uncompressed protobuf: more than they take on disk). Spans awaiting a sampling decision
 * are not counted, since most may be sampled out; neither is an in-memory queue, bounded in batches.
 * What arrives before the next check (as many spans as the shard took up since the last one) needs
 * room too: shedding starts only then, and under load the checks come late while acks go on, so
 * the margin grows with the interval it covers.
 */
function projectedFill(
  shared: SharedMetricsReader,
  shard: number,
  handoffBytes: number,
  arrivingSpans: number,
): number {
  const read = (name: Parameters<SharedMetricsReader['read']>[0]) => shared.read(name, undefined, shard);
  const fill = read('queueFill');
  const bytes = read('queueStoredBytes');
  const free = read('storageFreeBytes');
  if (bytes + free <= 0) return fill;
  const spans = read('queueStoredSpans');
  const ingested = read('spansIngested');
  const takenUp = read('handoffBytesDone');
  let coming = handoffBytes;
  if (takenUp > 0 && ingested > 0) {
    const perSpan = spans > 0 ? bytes / spans : takenUp / ingested;
    const inHandoff = (handoffBytes * ingested) / takenUp;
    coming =
      Math.max(0, inHandoff + read('batchSpans') + read('queueSpans') - spans + arrivingSpans) * perSpan;
  }
  return Math.max(fill, (bytes + coming) / (bytes + free));
}

/** Seconds for `excessSpans` to drain at the current rate, within bounds; the maximum when nothing drains. */
export function retryAfterSeconds(excessSpans: number, spansPerSecond: number): number {
  if (spansPerSecond < 1) return MAX_RETRY_AFTER;
  const seconds = Math.ceil(excessSpans / spansPerSecond);
  return Math.min(MAX_RETRY_AFTER, Math.max(MIN_RETRY_AFTER, seconds));
}
