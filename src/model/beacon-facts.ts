import { BEACON_STATUS_CODE, type Beacon } from './beacon.ts';
import { offsetNanos } from './time.ts';

// What a worker shard needs to know of a handed-off beacon before (or instead of) parsing it, written
// by the receiver from the beacon it has just validated: per beacon, FACTS numbers in one Float64Array
// per hand-off message (a typed array clones as one copy, where an array of numbers clones element by
// element). A tail-sampling shard decides a trace on these alone when its policies read no attribute,
// so a trace it drops is never parsed (docs/architecture.md, "Deciding on beacon facts").

/** Where each fact is among a beacon's FACTS numbers. */
export const Fact = {
  /** Offset just past its item in the hand-off text. */
  END: 0,
  /** Its spans, as acknowledged. */
  SPANS: 1,
  /** BeaconFlag bits. */
  FLAGS: 2,
  /** Its time base, Beacon.ts (epoch ms). */
  TS: 3,
  /** Earliest span start and latest span end, in whole nanoseconds after TS (as the spans will carry them). */
  FIRST_START: 4,
  LAST_END: 5,
  /** Its write-ahead-log segment, or -1 when it is not logged. */
  SEGMENT: 6,
} as const;
export const FACTS = 7;

export const BeaconFlag = {
  /** Bit (1 << code) for each OTLP status code among its spans: UNSET 1, OK 2, ERROR 4. */
  STATUSES: 0b111,
  /** It holds its trace's local root (a span without a parent, or with a remote one). */
  ROOT: 0b1000,
  /**
   * Its tracestate has an OpenTelemetry entry, which may carry the randomness probabilistic sampling
   * uses instead of the trace id's: rare enough that a trace with one is read before it is decided.
   */
  OT_STATE: 0b10000,
} as const;

/** Writes a beacon's facts at `at` (a multiple of FACTS); `end` is where its hand-off item ends. */
export function writeBeaconFacts(
  facts: Float64Array,
  at: number,
  beacon: Beacon,
  end: number,
  segment: number | undefined,
): void {
  let flags = beacon.traceState?.includes('ot=') ? BeaconFlag.OT_STATE : 0;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const span of beacon.spans) {
    flags |= 1 << BEACON_STATUS_CODE[span.status ?? 'unset'];
    if (span.parent === undefined || span.parent === '' || span.parentRemote === true)
      flags |= BeaconFlag.ROOT;
    const start = offsetNanos(span.start);
    if (start < first) first = start;
    const stop = start + offsetNanos(span.dur);
    if (stop > last) last = stop;
  }
  facts[at + Fact.END] = end;
  facts[at + Fact.SPANS] = beacon.spans.length;
  facts[at + Fact.FLAGS] = flags;
  facts[at + Fact.TS] = beacon.ts;
  facts[at + Fact.FIRST_START] = first;
  facts[at + Fact.LAST_END] = last;
  facts[at + Fact.SEGMENT] = segment ?? -1;
}

/** The write-ahead-log segment of the beacon at `at`, if it is logged. */
export function segmentAt(facts: Float64Array, at: number): number | undefined {
  const segment = facts[at + Fact.SEGMENT] as number;
  return segment < 0 ? undefined : segment;
}

/** Where the item at `at` starts in its hand-off text: after `[`, or after the comma that ends the one before. */
export const itemStart = (facts: Float64Array, at: number): number =>
  at === 0 ? 1 : (facts[at - FACTS + Fact.END] as number) + 1;
