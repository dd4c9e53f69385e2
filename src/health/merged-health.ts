import type { VersionHealthConfig } from './config.ts';
import { type ExpoHistogram, emptyExpo, expoAdd, expoDifference } from './exponential.ts';
import { type Exemplar, type HealthSnapshot, valuesPerSeries } from './snapshot.ts';

/** One series over all shards, on the main thread. */
export interface MergedSeries {
  /** Label values (FIXED_DIMENSIONS, then the configured dimensions); empty for the overflow series. */
  readonly labels: readonly string[];
  readonly overflow: boolean;
  /** Cumulative since start, laid out as in snapshot.ts. */
  readonly values: Float64Array;
  /** The latest exemplar of each bucket, of a kept trace. */
  readonly exemplars: (Exemplar | undefined)[];
  errorExemplar: Exemplar | undefined;
  /** With histogram.exponential: cumulative, in the push's unit. */
  readonly expo: ExpoHistogram | undefined;
}

interface ShardSeries {
  target: MergedSeries;
  last: Float64Array;
  lastExpo: ExpoHistogram | undefined;
}

/**
 * Merges the shards' snapshots into one set of series. Each shard reports cumulative values per series,
 * so a lost or repeated snapshot cannot count twice; the difference since a shard's previous report is
 * added to the merged series. The relay-wide cardinality limit applies here again: the shards each stop
 * at the limit, but together they could see more distinct combinations.
 */
export class MergedHealth {
  readonly #stride: number;
  readonly #buckets: number;
  readonly #limit: number;
  readonly #expoSize: number;
  readonly #series: MergedSeries[] = [];
  readonly #byKey = new Map<string, MergedSeries>();
  #overflow: MergedSeries | undefined;
  readonly #shards = new Map<number, ShardSeries[]>();

  constructor(config: VersionHealthConfig) {
    this.#buckets = config.histogram.explicit.buckets.length;
    this.#stride = valuesPerSeries(this.#buckets);
    this.#limit = config.aggregation_cardinality_limit;
    this.#expoSize = config.histogram.exponential?.max_size ?? 0;
  }

  get series(): readonly MergedSeries[] {
    return this.#series;
  }

  apply(shard: number, snapshot: HealthSnapshot): void {
    let table = this.#shards.get(shard);
    if (!table) {
      table = [];
      this.#shards.set(shard, table);
    }
    for (const added of snapshot.added) {
      const target = added.overflow ? this.#overflowSeries() : this.#seriesFor(added.labels);
      table[added.id] = { target, last: new Float64Array(this.#stride), lastExpo: undefined };
    }
    const stride = this.#stride;
    for (const [i, id] of snapshot.changed.entries()) {
      const entry = table[id] as ShardSeries;
      const values = entry.target.values;
      for (let v = 0; v < stride; v++) {
        const now = snapshot.values[i * stride + v] as number;
        values[v] = (values[v] as number) + now - (entry.last[v] as number);
        entry.last[v] = now;
      }
      const expo = snapshot.expo?.[i];
      if (expo && entry.target.expo) {
        expoAdd(entry.target.expo, expoDifference(expo, entry.lastExpo), this.#expoSize);
        entry.lastExpo = expo;
      }
    }
    for (const exemplar of snapshot.exemplars) {
      const target = (table[exemplar.series] as ShardSeries).target;
      target.exemplars[exemplar.bucket] = exemplar;
      if (exemplar.error) target.errorExemplar = exemplar;
    }
  }

  #seriesFor(labels: readonly string[]): MergedSeries {
    const key = labels.join('\u0000');
    let series = this.#byKey.get(key);
    if (series) return series;
    if (this.#series.length >= this.#limit - (this.#overflow ? 0 : 1)) return this.#overflowSeries();
    series = this.#newSeries(labels, false);
    this.#byKey.set(key, series);
    return series;
  }

  #overflowSeries(): MergedSeries {
    if (!this.#overflow) this.#overflow = this.#newSeries([], true);
    return this.#overflow;
  }

  #newSeries(labels: readonly string[], overflow: boolean): MergedSeries {
    const series: MergedSeries = {
      labels,
      overflow,
      values: new Float64Array(this.#stride),
      exemplars: new Array(this.#buckets + 1).fill(undefined),
      errorExemplar: undefined,
      expo: this.#expoSize > 0 ? emptyExpo() : undefined,
    };
    this.#series.push(series);
    return series;
  }
}
