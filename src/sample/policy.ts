import type { SpanRecord } from '../model/span.ts';

/** What a policy sees: every span buffered for one trace so far. */
export interface Trace {
  readonly traceId: string;
  readonly spans: readonly SpanRecord[];
  /** Estimated encoded bytes of the spans. */
  readonly bytes: number;
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
