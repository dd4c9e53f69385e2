import type { SpanRecord } from './span.ts';

/**
 * A stage between ingest and export inside a worker shard. The tail sampler is one; the batch
 * processor another. Stages chain: each hands what it keeps to the next.
 */
export interface SpanProcessor {
  consume(records: readonly SpanRecord[]): void;
  /** Hands on everything held, then drains the next stage; resolves by the deadline (epoch ms). */
  drain(deadline: number): Promise<void>;
}
