import type { SpanRecord } from '../model/span.ts';

/** A decision as it travels between replicas: trace id, kept or not, and how it was kept. */
export interface SharedDecision {
  readonly traceId: string;
  readonly sampled: boolean;
  readonly policy?: string;
  /** The consistent-sampling threshold as a decimal string (bigint does not travel in JSON). */
  readonly threshold?: string;
}

/**
 * What the cluster stage needs from the stage after it (the tail sampler) to keep traces whole when
 * ownership moves: which traces it holds, its undecided traces and its decisions for traces that move,
 * and decisions made elsewhere to follow.
 */
export interface TraceHolder {
  /** True when the trace is buffered or its decision is remembered here. */
  holds(traceId: string): boolean;
  /** Removes and returns the buffered, undecided traces for which `moves` is true, spans grouped per trace. */
  takeUndecided(moves: (traceId: string) => boolean): SpanRecord[][];
  /** Remembered decisions of traces for which `moves` is true. */
  decisionsFor(moves: (traceId: string) => boolean): SharedDecision[];
  /** Follows decisions made by a trace's previous owner; returns the trace ids it had already decided otherwise. */
  adopt(decisions: readonly SharedDecision[]): string[];
}
