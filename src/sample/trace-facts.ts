import { BeaconFlag, Fact } from '../model/beacon-facts.ts';
import type { SpanRecord } from '../model/span.ts';
import { msToNanos } from '../model/time.ts';
import type { HeldBeacon } from './held-beacon.ts';

/**
 * What the policies that read no attribute ask of a trace (status_code, latency, probabilistic,
 * span_count and the limits): the same answers from its spans as from its held beacons' facts, so a
 * trace can be decided without parsing the beacons it is held as.
 */
export interface TraceFacts {
  readonly spans: number;
  /** Bit (1 << code) for each OTLP status code among its spans. */
  readonly statuses: number;
  /** Earliest span start and latest span end, epoch ns; no start without spans. */
  readonly startNs: bigint | undefined;
  readonly endNs: bigint;
  /** The first span's tracestate where it has an OpenTelemetry (`ot`) entry, else "": all randomness reads. */
  readonly otState: string;
}

type Folding = { -readonly [K in keyof TraceFacts]: TraceFacts[K] };

/** The facts of spans. */
export function spanFacts(records: readonly SpanRecord[]): Folding {
  const first = records[0]?.span.traceState ?? '';
  const facts: Folding = {
    spans: records.length,
    statuses: 0,
    startNs: undefined,
    endNs: 0n,
    otState: first.includes('ot=') ? first : '',
  };
  for (const { span } of records) {
    facts.statuses |= 1 << span.status.code;
    if (facts.startNs === undefined || span.startTimeUnixNano < facts.startNs)
      facts.startNs = span.startTimeUnixNano;
    if (span.endTimeUnixNano > facts.endNs) facts.endNs = span.endTimeUnixNano;
  }
  return facts;
}

/**
 * The facts of a trace's spans and its held beacons; undefined when a beacon's facts cannot tell (its
 * tracestate may carry randomness), so the trace must be read first.
 */
export function traceFacts(
  records: readonly SpanRecord[],
  held: readonly HeldBeacon[] | undefined,
): TraceFacts | undefined {
  const facts = spanFacts(records);
  if (held === undefined) return facts;
  for (const beacon of held) {
    const f = beacon.facts;
    const at = beacon.at;
    const flags = f[at + Fact.FLAGS] as number;
    if ((flags & BeaconFlag.OT_STATE) !== 0) return undefined;
    facts.spans += f[at + Fact.SPANS] as number;
    facts.statuses |= flags & BeaconFlag.STATUSES;
    const base = msToNanos(f[at + Fact.TS] as number);
    const start = base + BigInt(f[at + Fact.FIRST_START] as number);
    const end = base + BigInt(f[at + Fact.LAST_END] as number);
    if (facts.startNs === undefined || start < facts.startNs) facts.startNs = start;
    if (end > facts.endNs) facts.endNs = end;
  }
  return facts;
}
