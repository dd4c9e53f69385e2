import type { ExpoHistogram } from './exponential.ts';

// What a worker shard posts to the main thread about its version-health series, once per tick and only
// when something changed: new series once, then the cumulative values of the series that changed.
// Bounded by the cardinality limit, whatever the span rate.

/** Per series values, flat: requests, errors, duration sum (seconds), then one count per bucket (+Inf last). */
export const REQUESTS = 0;
export const ERRORS = 1;
export const SUM = 2;
export const FIRST_BUCKET = 3;
export const valuesPerSeries = (buckets: number): number => FIRST_BUCKET + buckets + 1;

export interface NewSeries {
  id: number;
  /** Label values in the order of FIXED_DIMENSIONS then the configured dimensions; empty for overflow. */
  labels: string[];
  overflow: boolean;
}

/** A span of a kept trace, shown as the example of one bucket (and of the errors counter if it failed). */
export interface Exemplar {
  series: number;
  bucket: number;
  error: boolean;
  traceId: string;
  spanId: string;
  /** Duration in seconds. */
  value: number;
  /** Epoch milliseconds of the span's end. */
  time: number;
}

export interface HealthSnapshot {
  added: NewSeries[];
  /** Ids of the series whose values follow, valuesPerSeries() numbers each. */
  changed: number[];
  values: Float64Array;
  /** With histogram.exponential: each changed series' exponential histogram (cumulative), in order. */
  expo?: ExpoHistogram[];
  exemplars: Exemplar[];
}
