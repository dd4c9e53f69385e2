import { beaconToSpans } from '../enrich/beacon-to-spans.ts';
import type { EnrichmentConfig } from '../enrich/config.ts';
import { edgeResources } from '../enrich/edge-resource.ts';
import { otlpEnrichment } from '../enrich/otlp-resource.ts';
import type { BeaconBatch, HandoffItem, OtlpItem } from '../handoff/messages.ts';
import type { VersionHealthStage } from '../health/version-health-stage.ts';
import { FACTS, Fact, segmentAt } from '../model/beacon-facts.ts';
import type { SpanRecord } from '../model/span.ts';
import type { SpanProcessor } from '../model/span-processor.ts';
import { decodeOtlpProto } from '../receive/otlp/decode-otlp-proto.ts';
import type { ClusterStage } from '../route/cluster-stage.ts';
import { type HeldBeacon, heldSegment, heldSpans, heldText } from '../sample/held-beacon.ts';
import type { TailSampler } from '../sample/tail-sampler.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { SettledSegmentsWriter } from '../telemetry/settled-segments.ts';
import type { SharedMetricsWriter } from '../telemetry/shared-metrics.ts';

/** What a shard's hand-off messages go into: its stages, and where it counts and logs. */
export interface ShardStages {
  enrichment: EnrichmentConfig;
  identityAttribute: string;
  metrics: SharedMetricsWriter;
  settled: SettledSegmentsWriter | undefined;
  log: Logger;
  /** The first stage for spans from a client: version health, or else routing or sampling. */
  pipeline: SpanProcessor;
  sampler: TailSampler;
  cluster: ClusterStage | undefined;
  health: VersionHealthStage | undefined;
}

/**
 * A shard's intake: turns the receivers' hand-off messages into spans for its stages, counting every
 * acknowledged span as taken up (or lost, when it cannot be read), and wires the sampler's reader of
 * the beacons it holds.
 */
export function shardIngest(stages: ShardStages): {
  beacons: (batch: BeaconBatch) => void;
  otlp: (items: OtlpItem[]) => void;
} {
  const { metrics, settled, log, pipeline, sampler, cluster, health } = stages;
  const resourceOf = edgeResources(stages.enrichment, stages.identityAttribute);
  const enrichOtlp = otlpEnrichment(stages.enrichment, stages.identityAttribute);

  /** Spans logged in a write-ahead-log segment settle against it; replayed ones count as recovered. */
  function taken(records: SpanRecord[], segment: number | undefined, recovered: boolean | undefined): void {
    if (segment !== undefined) for (const record of records) record.segment = segment;
    metrics.add(recovered ? 'spansRecovered' : 'spansIngested', records.length);
  }

  /**
   * Spans acknowledged to their client that this shard cannot read (what the receiver checked: a bug,
   * never the client's doing). Counted as taken up when they arrived, they are dropped and settled in
   * their log segment, so the accounting identity holds, and the shard goes on with the rest.
   */
  function unreadable(spans: number, err: unknown, segment?: number): void {
    metrics.add('spansDropped', spans, 'decode_failed');
    if (segment !== undefined) settled?.add(segment, spans);
    log.error({ err, spans }, 'accepted spans could not be read in the worker; dropped');
  }

  /** Spans of an OTLP item that cannot be read: counted as taken up here, then as dropped. */
  function lost(spans: number, err: unknown, segment?: number): void {
    metrics.add('spansIngested', spans);
    unreadable(spans, err, segment);
  }

  /** A handed-off beacon's spans, enriched and tagged with its log segment; none if it cannot be read. */
  function spansOf(item: HandoffItem, spans: number, segment: number | undefined): SpanRecord[] {
    try {
      const records = beaconToSpans(item.b, resourceOf(item.b, item.ip, item.id));
      if (segment !== undefined) for (const record of records) record.segment = segment;
      return records;
    } catch (err) {
      unreadable(spans, err, segment);
      return [];
    }
  }

  /** One beacon of a hand-off text, parsed on its own. */
  function readBeacon(beacon: HeldBeacon): SpanRecord[] {
    let item: HandoffItem;
    try {
      item = JSON.parse(heldText(beacon)) as HandoffItem;
    } catch (err) {
      unreadable(heldSpans(beacon), err, heldSegment(beacon));
      return [];
    }
    return spansOf(item, heldSpans(beacon), heldSegment(beacon));
  }

  // A held beacon is read when its trace is decided: version health counts its spans then, where they
  // first become spans (hops 0, so once).
  sampler.readBeacon = (beacon) => {
    const records = readBeacon(beacon);
    health?.count(records);
    return records;
  };
  sampler.readEveryBeacon = health !== undefined;

  /**
   * Beacons are taken up as they arrive. A tail-sampling shard holds those of traces it decides as text;
   * the rest (no sampling, or a trace another replica owns) are read into spans now, a whole message's
   * text in one parse when none is held.
   */
  function ingestBeacons({ text, traceIds, facts, recovered }: BeaconBatch): void {
    let total = 0;
    for (let at = Fact.SPANS; at < facts.length; at += FACTS) total += facts[at] as number;
    metrics.add(recovered ? 'spansRecovered' : 'spansIngested', total);
    if (!sampler.holdsBeacons) {
      let items: HandoffItem[];
      try {
        items = JSON.parse(text) as HandoffItem[];
      } catch (err) {
        unreadable(total, err);
        return;
      }
      for (let i = 0; i < items.length; i++) {
        const at = i * FACTS;
        pipeline.consume(
          spansOf(items[i] as HandoffItem, facts[at + Fact.SPANS] as number, segmentAt(facts, at)),
        );
      }
      return;
    }
    const held: HeldBeacon[] = [];
    for (let i = 0; i < traceIds.length; i++) {
      const beacon: HeldBeacon = { traceId: traceIds[i] as string, text, facts, at: i * FACTS };
      // A trace another replica decides goes there as spans, counted here first (version health).
      if (cluster?.owns(beacon.traceId) ?? true) held.push(beacon);
      else pipeline.consume(readBeacon(beacon));
    }
    if (held.length > 0) sampler.hold(held);
  }

  /** OTLP spans arrive checked by the receiver; only their resources are enriched here. */
  function ingestOtlp(items: OtlpItem[]): void {
    for (const { ip, identity, body, spans, hops, segment, recovered } of items) {
      let records: SpanRecord[];
      try {
        records = decodeOtlpProto(body).records;
        // Spans from a peer were enriched where they first arrived; the peer's address says nothing of them.
        if (hops === 0) enrichOtlp(records, ip, identity);
      } catch (err) {
        lost(spans, err, segment);
        continue;
      }
      if (records.length < spans) {
        lost(spans - records.length, new Error('fewer spans than the receiver took'), segment);
      }
      taken(records, segment, recovered);
      if (hops === 0) pipeline.consume(records);
      else if (cluster) cluster.consume(records, hops);
      else sampler.consume(records);
    }
  }

  return { beacons: ingestBeacons, otlp: ingestOtlp };
}
