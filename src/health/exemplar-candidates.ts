import type { Span } from '../model/span.ts';
import type { Exemplar } from './snapshot.ts';

// Exemplars must point at traces the backend has: a span is only a candidate until the tail sampler
// decides its trace, and is published if the trace was kept, freed if not. Bounded per series slot
// and overall, so a flood of undecided traces cannot grow it.

const PENDING_PER_SLOT = 4;
/** Candidates whose trace was never decided here (handed over, or a sampler reconfigured away) are forgotten. */
const PENDING_TTL_MS = 300_000;
/** Without tail sampling every trace is kept: one exemplar per bucket per second is plenty. */
const PUBLISH_INTERVAL_MS = 1000;

/** What a series keeps for its exemplars: candidates pending per slot, and when each slot last published. */
export interface ExemplarSlots {
  readonly id: number;
  /** Candidates pending per slot: buckets, then the errors counter. */
  readonly pending: Uint8Array;
  /** Without tail sampling: when each slot last published an exemplar. */
  readonly publishedAt: Float64Array;
}

interface Candidate {
  readonly series: ExemplarSlots;
  readonly bucket: number;
  readonly error: boolean;
  readonly holdsBucket: boolean;
  readonly holdsError: boolean;
  readonly spanId: string;
  readonly value: number;
  readonly endNanos: bigint;
  readonly at: number;
}

export class ExemplarCandidates {
  readonly #pending = new Map<string, Candidate[]>();
  #pendingCount = 0;
  readonly #maxPending: number;
  readonly #errorSlot: number;
  #published: Exemplar[] = [];
  /** No tail sampling: every trace is kept, so exemplars publish at once. */
  keepsAll = true;
  /** Whether this shard decides the trace (in a cluster, another replica may own it). */
  isLocal: ((traceId: string) => boolean) | undefined;

  /** `series` is the cardinality limit (0: exemplars off); the error counter's slot follows the buckets. */
  constructor(series: number, errorSlot: number) {
    this.#maxPending = series * PENDING_PER_SLOT;
    this.#errorSlot = errorSlot;
  }

  get pending(): number {
    return this.#pendingCount;
  }

  get published(): number {
    return this.#published.length;
  }

  /** The exemplars published since the last call. */
  take(): Exemplar[] {
    const published = this.#published;
    this.#published = [];
    return published;
  }

  decided(traceId: string, kept: boolean): void {
    const candidates = this.#pending.get(traceId);
    if (!candidates) return;
    this.#pending.delete(traceId);
    for (const candidate of candidates) {
      this.#release(candidate);
      if (kept) this.#publish(candidate, traceId);
    }
  }

  offer(
    series: ExemplarSlots,
    bucket: number,
    error: boolean,
    span: Span,
    seconds: number,
    now: number,
  ): void {
    if (this.#maxPending === 0) return;
    const pending = series.pending;
    if (this.keepsAll) {
      const published = series.publishedAt;
      const slot =
        error && now - (published[this.#errorSlot] as number) >= PUBLISH_INTERVAL_MS
          ? this.#errorSlot
          : bucket;
      if (now - (published[slot] as number) < PUBLISH_INTERVAL_MS) return;
      published[slot] = now;
      this.#publish(this.#candidate(series, bucket, error, false, false, span, seconds, now), span.traceId);
      return;
    }
    const holdsBucket = (pending[bucket] as number) < PENDING_PER_SLOT;
    const holdsError = error && (pending[this.#errorSlot] as number) < PENDING_PER_SLOT;
    if (!holdsBucket && !holdsError) return;
    if (this.#pendingCount >= this.#maxPending) return;
    if (this.isLocal && !this.isLocal(span.traceId)) return;
    if (holdsBucket) pending[bucket] = (pending[bucket] as number) + 1;
    if (holdsError) pending[this.#errorSlot] = (pending[this.#errorSlot] as number) + 1;
    const candidate = this.#candidate(series, bucket, error, holdsBucket, holdsError, span, seconds, now);
    const list = this.#pending.get(span.traceId);
    if (list) list.push(candidate);
    else this.#pending.set(span.traceId, [candidate]);
    this.#pendingCount++;
  }

  #candidate(
    series: ExemplarSlots,
    bucket: number,
    error: boolean,
    holdsBucket: boolean,
    holdsError: boolean,
    span: Span,
    seconds: number,
    now: number,
  ): Candidate {
    return {
      series,
      bucket,
      error,
      holdsBucket,
      holdsError,
      spanId: span.spanId,
      value: seconds,
      endNanos: span.endTimeUnixNano,
      at: now,
    };
  }

  #release(candidate: Candidate): void {
    const pending = candidate.series.pending;
    if (candidate.holdsBucket) pending[candidate.bucket] = (pending[candidate.bucket] as number) - 1;
    if (candidate.holdsError) pending[this.#errorSlot] = (pending[this.#errorSlot] as number) - 1;
    this.#pendingCount--;
  }

  #publish(candidate: Candidate, traceId: string): void {
    this.#published.push({
      series: candidate.series.id,
      bucket: candidate.bucket,
      error: candidate.error,
      traceId,
      spanId: candidate.spanId,
      value: candidate.value,
      time: Number(candidate.endNanos / 1_000_000n),
    });
  }

  expire(now: number): void {
    if (this.#pendingCount === 0) return;
    for (const [traceId, candidates] of this.#pending) {
      // Entries are in insertion order, so the first one still young ends the sweep.
      if (now - (candidates[0] as Candidate).at < PENDING_TTL_MS) return;
      this.#pending.delete(traceId);
      for (const candidate of candidates) this.#release(candidate);
    }
  }
}
