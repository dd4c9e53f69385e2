import type { SpanRecord } from '../model/span.ts';
import type { SettledSegmentsWriter } from '../telemetry/settled-segments.ts';
import type { SharedMetricsWriter } from '../telemetry/shared-metrics.ts';
import { annotate } from './annotate.ts';
import type { Keep } from './decision-cache.ts';
import { type HeldBeacon, heldSegment, heldSpans } from './held-beacon.ts';

/**
 * What becomes of spans once their trace is decided, on time or late: kept ones are annotated and collected,
 * to be handed on together once per consume or tick; sampled-out ones are counted and settled against their
 * write-ahead-log segments, whether they were read or are still held as text.
 */
export class TraceOutcomes {
  readonly #metrics: SharedMetricsWriter;
  readonly #settled: SettledSegmentsWriter | undefined;
  #kept: SpanRecord[] = [];

  constructor(metrics: SharedMetricsWriter, settled: SettledSegmentsWriter | undefined) {
    this.#metrics = metrics;
    this.#settled = settled;
  }

  kept(records: readonly SpanRecord[], keep: Keep, recordPolicy: boolean): void {
    annotate(records, keep, recordPolicy);
    for (const record of records) this.#kept.push(record);
  }

  sampledOut(records: readonly SpanRecord[], held: readonly HeldBeacon[] | undefined): void {
    let spans = records.length;
    this.#settled?.settle(records);
    for (const beacon of held ?? []) {
      const n = heldSpans(beacon);
      spans += n;
      const segment = heldSegment(beacon);
      if (segment !== undefined) this.#settled?.add(segment, n);
    }
    this.#metrics.add('spansSampledOut', spans);
  }

  /** Counts late spans of a decided trace; the first of its trace in a batch (`newTrace`) is a cache hit. */
  late(spans: number, cached: Keep | 'dropped', newTrace: boolean): void {
    const decision = cached === 'dropped' ? 'not_sampled' : 'sampled';
    if (newTrace) this.#metrics.add('decisionCacheHits', 1, decision);
    this.#metrics.add('lateSpans', spans, decision);
  }

  /** The kept spans collected since the last call, if any. */
  take(): SpanRecord[] | undefined {
    if (this.#kept.length === 0) return undefined;
    const kept = this.#kept;
    this.#kept = [];
    return kept;
  }
}
