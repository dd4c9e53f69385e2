import type { SpanRecord } from '../model/span.ts';

/**
 * A beacon a tail-sampling shard holds as the text it was handed, until its trace is decided. Held
 * spans live for the whole decision wait, long enough for the young-generation collector to copy them
 * twice and the old-generation one to trace them: the spans' object graph (dozens of objects per span)
 * costs both far more than the one hand-off text its beacons share, which holds no pointers
 * (docs/architecture.md, "Holding beacons until the decision").
 */
export interface HeldBeacon {
  readonly traceId: string;
  /** The hand-off text it came in (shared by that message's beacons) and where its item is in it. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** Its spans, as acknowledged. */
  readonly spans: number;
  /** Whether it holds its trace's local root. */
  readonly root: boolean;
}

/**
 * Turns a held beacon into its spans, done by the stages before sampling (enrichment, version health);
 * set by the worker runtime, so that this stage imports none of them. Spans it cannot read it counts
 * as dropped itself and leaves out.
 */
export type ReadHeldBeacon = (beacon: HeldBeacon) => SpanRecord[];
