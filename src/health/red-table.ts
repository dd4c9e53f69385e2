import { EDGEWORKER_ID, EDGEWORKER_VERSION } from '../model/edgeworker.ts';
import type { AnyValue, KeyValue, Resource, Span, SpanRecord } from '../model/span.ts';
import { SpanKind, StatusCode } from '../model/span.ts';
import { adjustedCount, otValue, parseThresholdHex } from '../sample/probability.ts';
import { SPAN_KIND_NAMES, type VersionHealthConfig } from './config.ts';
import { ExemplarCandidates, type ExemplarSlots } from './exemplar-candidates.ts';
import { cloneExpo, type ExpoHistogram, emptyExpo, expoRecord } from './exponential.ts';
import {
  ERRORS,
  FIRST_BUCKET,
  type HealthSnapshot,
  type NewSeries,
  REQUESTS,
  SUM,
  valuesPerSeries,
} from './snapshot.ts';

const EDGE_POP = 'akamai.edge.pop';
const HTTP_ROUTE = 'http.route';
const HTTP_STATUS = 'http.response.status_code';

/** Candidate exemplars waiting for their trace's decision, per bucket of a series (and per errors counter). */
interface Series extends ExemplarSlots {
  readonly id: number;
  readonly values: Float64Array;
  /** With histogram.exponential, in the push's unit. */
  readonly expo: ExpoHistogram | undefined;
  dirty: boolean;
}

interface Group {
  /** The resource's label values: id, version, PoP. */
  readonly labels: readonly string[];
  /** By span name (and dimension values), series per span kind. */
  readonly byName: Map<string, (Series | undefined)[]>;
}

function stringOf(value: AnyValue): string {
  switch (value.type) {
    case 'string':
      return value.value;
    case 'bool':
    case 'int':
    case 'double':
      return String(value.value);
    default:
      return '';
  }
}

function attribute(attributes: readonly KeyValue[], key: string): AnyValue | undefined {
  for (const a of attributes) if (a.key === key) return a.value;
  return undefined;
}

function numberOf(value: AnyValue | undefined): number {
  if (!value) return 0;
  if (value.type === 'int' || value.type === 'double') return Number(value.value);
  if (value.type === 'string') return Number(value.value) || 0;
  return 0;
}

/**
 * One worker shard's RED aggregates: requests, errors and a duration histogram per worker id, version,
 * PoP, span name (or route) and kind, plus configured dimensions. Memory is bounded by
 * aggregation_cardinality_limit: past it, new combinations count in one overflow series. Exemplars are
 * held as candidates until the tail sampler decides their trace, and published only if it was kept.
 */
export class RedTable {
  readonly #config: VersionHealthConfig;
  /** Bucket upper bounds in seconds. */
  readonly #bounds: Float64Array;
  readonly #stride: number;
  readonly #errorSlot: number;
  readonly #kinds: boolean[];
  readonly #limit: number;
  readonly #series: Series[] = [];
  #overflow: Series | undefined;
  readonly #groups = new Map<string, Group>();
  /** Resources are interned by enrichment, so most spans find their group by object identity. */
  readonly #groupOf = new WeakMap<Resource, Group | null>();
  #added: NewSeries[] = [];
  #dirty: Series[] = [];
  readonly #exemplars: ExemplarCandidates;
  /** max_size of the exponential histogram, 0 without one. */
  readonly #expoSize: number;
  /** Seconds to the push's unit. */
  readonly #expoScale: number;
  #lastTraceState = '';
  #lastWeight = 1;

  constructor(config: VersionHealthConfig) {
    this.#config = config;
    const buckets = config.histogram.explicit.buckets;
    this.#bounds = Float64Array.from(buckets, (ms) => ms / 1000);
    this.#stride = valuesPerSeries(buckets.length);
    this.#errorSlot = buckets.length + 1;
    const counted = new Set<string>(config.span_kinds);
    this.#kinds = SPAN_KIND_NAMES.map((name) => counted.has(name));
    this.#limit = config.aggregation_cardinality_limit;
    this.#exemplars = new ExemplarCandidates(config.exemplars.enabled ? this.#limit : 0, buckets.length + 1);
    this.#expoSize = config.histogram.exponential?.max_size ?? 0;
    this.#expoScale = config.histogram.unit === 'ms' ? 1000 : 1;
  }

  get seriesCount(): number {
    return this.#series.length;
  }

  get pendingExemplars(): number {
    return this.#exemplars.pending;
  }

  /** No tail sampling: every trace is kept, so exemplars publish at once. */
  set keepsAll(keepsAll: boolean) {
    this.#exemplars.keepsAll = keepsAll;
  }

  /** Whether this shard decides the trace (in a cluster, another replica may own it). */
  set isLocal(isLocal: ((traceId: string) => boolean) | undefined) {
    this.#exemplars.isLocal = isLocal;
  }

  /** Counts the spans of a batch; `now` (epoch ms) dates exemplar candidates. */
  record(records: readonly SpanRecord[], now: number): void {
    for (const record of records) {
      const span = record.span;
      if (this.#kinds[span.kind] !== true) continue;
      let group = this.#groupOf.get(record.resource);
      if (group === undefined) group = this.#groupFor(record.resource);
      if (group === null) continue;
      let name = span.name;
      let error = span.status.code === StatusCode.ERROR;
      if (span.kind === SpanKind.SERVER) {
        for (const a of span.attributes) {
          if (a.key === HTTP_ROUTE && a.value.type === 'string' && a.value.value !== '') name = a.value.value;
          else if (a.key === HTTP_STATUS && numberOf(a.value) >= 500) error = true;
        }
      }
      const series = this.#seriesFor(group, name, span, record.resource);
      const weight = span.traceState === '' ? 1 : this.#weightOf(span.traceState);
      const nanos = span.endTimeUnixNano - span.startTimeUnixNano;
      const seconds = nanos > 0n ? Number(nanos) / 1e9 : 0;
      const bounds = this.#bounds;
      let bucket = 0;
      while (bucket < bounds.length && seconds > (bounds[bucket] as number)) bucket++;
      const values = series.values;
      values[REQUESTS] = (values[REQUESTS] as number) + weight;
      if (error) values[ERRORS] = (values[ERRORS] as number) + weight;
      values[SUM] = (values[SUM] as number) + weight * seconds;
      values[FIRST_BUCKET + bucket] = (values[FIRST_BUCKET + bucket] as number) + weight;
      if (series.expo) expoRecord(series.expo, seconds * this.#expoScale, weight, this.#expoSize);
      if (!series.dirty) {
        series.dirty = true;
        this.#dirty.push(series);
      }
      this.#exemplars.offer(series, bucket, error, span, seconds, now);
    }
  }

  /** The tail sampler decided a trace: its candidates are published if it was kept, freed if not. */
  decided(traceId: string, kept: boolean): void {
    this.#exemplars.decided(traceId, kept);
  }

  /** What changed since the last snapshot, or undefined when nothing did. */
  snapshot(now: number): HealthSnapshot | undefined {
    this.#exemplars.expire(now);
    if (this.#added.length === 0 && this.#dirty.length === 0 && this.#exemplars.published === 0)
      return undefined;
    const stride = this.#stride;
    const values = new Float64Array(this.#dirty.length * stride);
    const changed: number[] = [];
    const expo: ExpoHistogram[] = [];
    for (const [i, series] of this.#dirty.entries()) {
      values.set(series.values, i * stride);
      changed.push(series.id);
      if (series.expo) expo.push(cloneExpo(series.expo));
      series.dirty = false;
    }
    const snapshot: HealthSnapshot = {
      added: this.#added,
      changed,
      values,
      exemplars: this.#exemplars.take(),
      ...(this.#expoSize > 0 ? { expo } : {}),
    };
    this.#added = [];
    this.#dirty = [];
    return snapshot;
  }

  #groupFor(resource: Resource): Group | null {
    const attributes = resource.attributes;
    const id = attribute(attributes, EDGEWORKER_ID);
    // Spans of origin services (OTLP without the edge identity) are not an EdgeWorker's requests.
    if (!id) {
      this.#groupOf.set(resource, null);
      return null;
    }
    const labels = [
      stringOf(id),
      stringOf(attribute(attributes, EDGEWORKER_VERSION) ?? { type: 'empty' }),
      stringOf(attribute(attributes, EDGE_POP) ?? { type: 'empty' }),
    ];
    const key = labels.join('\u0000');
    let group = this.#groups.get(key);
    if (!group) {
      group = { labels, byName: new Map() };
      // A full table takes no new groups: a stream inventing versions must not grow memory.
      if (this.#full()) return group;
      this.#groups.set(key, group);
    }
    this.#groupOf.set(resource, group);
    return group;
  }

  #seriesFor(group: Group, name: string, span: Span, resource: Resource): Series {
    let key = name;
    let dimensionValues: string[] | undefined;
    if (this.#config.dimensions.length > 0) {
      dimensionValues = this.#config.dimensions.map((d) => {
        const value = attribute(span.attributes, d.name) ?? attribute(resource.attributes, d.name);
        return value === undefined ? (d.default ?? '') : stringOf(value);
      });
      key = `${name}\u0000${dimensionValues.join('\u0000')}`;
    }
    const byKind = group.byName.get(key);
    const found = byKind?.[span.kind];
    if (found) return found;
    if (this.#full()) return this.#overflowSeries();
    const series = this.#newSeries([
      ...group.labels,
      name,
      SPAN_KIND_NAMES[span.kind] as string,
      ...(dimensionValues ?? []),
    ]);
    if (byKind) byKind[span.kind] = series;
    else {
      const kinds: (Series | undefined)[] = [];
      kinds[span.kind] = series;
      group.byName.set(key, kinds);
    }
    return series;
  }

  /** One series is kept back for the overflow, as the OpenTelemetry SDK counts its cardinality limit. */
  #full(): boolean {
    return this.#series.length >= this.#limit - (this.#overflow ? 0 : 1);
  }

  #overflowSeries(): Series {
    if (!this.#overflow) this.#overflow = this.#newSeries([], true);
    return this.#overflow;
  }

  #newSeries(labels: string[], overflow = false): Series {
    const slots = this.#errorSlot + 1;
    const series: Series = {
      id: this.#series.length,
      values: new Float64Array(this.#stride),
      pending: new Uint8Array(slots),
      publishedAt: new Float64Array(slots),
      expo: this.#expoSize > 0 ? emptyExpo() : undefined,
      dirty: false,
    };
    this.#series.push(series);
    this.#added.push({ id: series.id, labels, overflow });
    return series;
  }

  #weightOf(traceState: string): number {
    if (traceState !== this.#lastTraceState) {
      const threshold = parseThresholdHex(otValue(traceState, 'th'));
      this.#lastTraceState = traceState;
      this.#lastWeight = threshold === undefined ? 1 : adjustedCount(threshold);
    }
    return this.#lastWeight;
  }
}
