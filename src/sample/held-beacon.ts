import { BeaconFlag, Fact, itemStart, segmentAt } from '../model/beacon-facts.ts';
import type { SpanRecord } from '../model/span.ts';

/**
 * A beacon a tail-sampling shard holds as the text it was handed, until its trace is decided. Held
 * spans live for the whole decision wait, long enough for the young-generation collector to copy them
 * twice and the old-generation one to trace them: the spans' object graph (dozens of objects per span)
 * costs both far more than the one hand-off text its beacons share, which holds no pointers
 * (docs/architecture.md, "Holding beacons until the decision"). A trace its policies drop on the
 * beacons' facts alone is never read at all.
 */
export interface HeldBeacon {
  readonly traceId: string;
  /** The hand-off text it came in and that message's facts (both shared by its beacons; model/beacon-facts.ts). */
  readonly text: string;
  readonly facts: Float64Array;
  /** Where its facts start in `facts`: its index in the message times FACTS (model/beacon-facts.ts). */
  readonly at: number;
}

/** Its spans, as acknowledged. */
export const heldSpans = ({ facts, at }: HeldBeacon): number => facts[at + Fact.SPANS] as number;

/** Whether it holds its trace's local root. */
export const heldRoot = ({ facts, at }: HeldBeacon): boolean =>
  ((facts[at + Fact.FLAGS] as number) & BeaconFlag.ROOT) !== 0;

/** Its write-ahead-log segment, if it is logged. */
export const heldSegment = ({ facts, at }: HeldBeacon): number | undefined => segmentAt(facts, at);

/** Its item's JSON text. */
export const heldText = ({ text, facts, at }: HeldBeacon): string =>
  text.slice(itemStart(facts, at), facts[at + Fact.END]);

/** Its item's length in the hand-off text: what it holds until its trace is decided. */
export const heldBytes = ({ facts, at }: HeldBeacon): number =>
  (facts[at + Fact.END] as number) - itemStart(facts, at);

/**
 * Turns a held beacon into its spans, done by the stages before sampling (enrichment, version health);
 * set by the worker runtime, so that this stage imports none of them. Spans it cannot read it counts
 * as dropped itself and leaves out.
 */
export type ReadHeldBeacon = (beacon: HeldBeacon) => SpanRecord[];
