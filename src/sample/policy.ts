import type { SpanRecord } from '../model/span.ts';
import type { TraceFacts } from './trace-facts.ts';

/** What a policy sees of one trace: what has arrived of it so far. */
export interface Trace {
  readonly traceId: string;
  /**
   * Its spans: all of them for a policy that reads spans (policies.ts, `readsSpans`); the others decide
   * on `facts`, and a trace held as beacons may not have been read into spans.
   */
  readonly spans: readonly SpanRecord[];
  /** Estimated encoded bytes of the spans. */
  readonly bytes: number;
  readonly facts: TraceFacts;
}

/**
 * A policy's answer. A sampled decision may carry the consistent-probability threshold it sampled at
 * (OpenTelemetry tracestate `th`), so that kept spans can tell the backend how to re-weight them.
 */
export type Decision =
  | { readonly kind: 'sampled'; readonly threshold?: bigint }
  | { readonly kind: 'not_sampled' }
  | { readonly kind: 'dropped' };

export const SAMPLED: Decision = { kind: 'sampled' };
export const NOT_SAMPLED: Decision = { kind: 'not_sampled' };
export const DROPPED: Decision = { kind: 'dropped' };

export interface Policy {
  readonly name: string;
  evaluate(trace: Trace): Decision;
}

/** Milliseconds since the epoch; injectable so that rate limits and deadlines can be tested. */
export type Clock = () => number;

export const sampledIf = (condition: boolean): Decision => (condition ? SAMPLED : NOT_SAMPLED);
