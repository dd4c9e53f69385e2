import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { type HrTime, ValueType } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  type CollectionResult,
  type DataPoint,
  DataPointType,
  type ExponentialHistogram,
  type Histogram,
  MeterProvider,
  type MetricData,
  type MetricProducer,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import type { ExporterConfig } from '../export/config.ts';
import { atDeadline } from '../lib/deadline.ts';
import { backoffDelay, RETRYABLE_STATUS, type RetryConfig } from '../lib/retry.ts';
import type { Logger } from '../telemetry/logger.ts';
import { FIXED_DIMENSIONS, type VersionHealthConfig } from './config.ts';
import { cloneExpo, type ExpoHistogram, expoDifference } from './exponential.ts';
import type { MergedHealth, MergedSeries } from './merged-health.ts';
import { ERRORS, FIRST_BUCKET, REQUESTS, SUM } from './snapshot.ts';

/** What the push needs of the `exporter` section, handed over by the wiring. */
export interface MetricsExportSettings {
  metrics_endpoint: string;
  headers: Record<string, string>;
  compression: ExporterConfig['compression'];
  timeout: number;
  retry_on_failure: RetryConfig;
}

export const SCOPE = { name: 'edge-relay/version-health', version: '1' };

const hrTime = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

interface Collected {
  /** Order of collection: an older export accepted late must not move the baseline back. */
  seq: number;
  time: number;
  values: Map<MergedSeries, Float64Array>;
  expo: Map<MergedSeries, ExpoHistogram>;
}

/**
 * Hands the merged series to the SDK's metric reader as already aggregated data (a MetricProducer, the
 * SDK's way in for metrics it does not aggregate itself). Delta points are differences from the last
 * push the backend accepted, so a failed push is carried into the next one rather than lost.
 */
export class VersionHealthProducer implements MetricProducer {
  readonly #merged: MergedHealth;
  readonly #config: VersionHealthConfig;
  readonly #names: string[];
  readonly #unitScale: number;
  readonly #start: number;
  #committed: Collected;
  #seq = 0;
  readonly #pending = new WeakMap<ScopeMetrics, Collected>();

  constructor(merged: MergedHealth, config: VersionHealthConfig, start = Date.now()) {
    this.#merged = merged;
    this.#config = config;
    this.#names = [...FIXED_DIMENSIONS, ...config.dimensions.map((d) => d.name)];
    this.#unitScale = config.histogram.unit === 'ms' ? 1000 : 1;
    this.#start = start;
    this.#committed = { seq: 0, time: start, values: new Map(), expo: new Map() };
  }

  get delta(): boolean {
    return this.#config.aggregation_temporality === 'AGGREGATION_TEMPORALITY_DELTA';
  }

  async collect(): Promise<CollectionResult> {
    const now = Date.now();
    const values = new Map<MergedSeries, Float64Array>();
    const expo = new Map<MergedSeries, ExpoHistogram>();
    const requests: DataPoint<number>[] = [];
    const errors: DataPoint<number>[] = [];
    const durations: DataPoint<Histogram>[] = [];
    const expoDurations: DataPoint<ExponentialHistogram>[] = [];
    const startTime = hrTime(this.delta ? this.#committed.time : this.#start);
    const endTime = hrTime(now);
    const bounds = this.#config.histogram.explicit.buckets.map((ms) => (ms / 1000) * this.#unitScale);
    for (const series of this.#merged.series) {
      const current = Float64Array.from(series.values);
      values.set(series, current);
      const base = this.delta ? this.#committed.values.get(series) : undefined;
      const change = (slot: number) => (current[slot] as number) - (base?.[slot] ?? 0);
      // Histogram counts are integers in OTLP; re-weighted (edge-sampled) counts are rounded here.
      const rounded = (slot: number) => Math.round(current[slot] as number) - Math.round(base?.[slot] ?? 0);
      if (this.delta && change(REQUESTS) === 0) continue;
      const attributes = series.overflow
        ? { 'otel.metric.overflow': true }
        : Object.fromEntries(this.#names.map((name, i) => [name, series.labels[i] as string]));
      requests.push({ startTime, endTime, attributes, value: change(REQUESTS) });
      errors.push({ startTime, endTime, attributes, value: change(ERRORS) });
      if (series.expo) {
        const histogram = cloneExpo(series.expo);
        expo.set(series, histogram);
        const point = expoDifference(histogram, this.delta ? this.#committed.expo.get(series) : undefined);
        const bucketCounts = point.counts.map(Math.round);
        const zeroCount = Math.round(point.zeroCount);
        expoDurations.push({
          startTime,
          endTime,
          attributes,
          value: {
            count: bucketCounts.reduce((sum, n) => sum + n, zeroCount),
            sum: change(SUM) * this.#unitScale,
            scale: point.scale,
            zeroCount,
            positive: { offset: point.offset, bucketCounts },
            negative: { offset: 0, bucketCounts: [] },
          },
        });
        continue;
      }
      const counts = bounds.map((_, b) => rounded(FIRST_BUCKET + b));
      counts.push(rounded(FIRST_BUCKET + bounds.length));
      durations.push({
        startTime,
        endTime,
        attributes,
        value: {
          buckets: { boundaries: bounds, counts },
          count: counts.reduce((sum, n) => sum + n, 0),
          sum: change(SUM) * this.#unitScale,
        },
      });
    }
    const aggregationTemporality = this.delta
      ? AggregationTemporality.DELTA
      : AggregationTemporality.CUMULATIVE;
    const sum = (name: string, description: string, unit: string, dataPoints: DataPoint<number>[]) =>
      ({
        descriptor: { name, description, unit, valueType: ValueType.DOUBLE },
        aggregationTemporality,
        dataPointType: DataPointType.SUM,
        isMonotonic: true,
        dataPoints,
      }) satisfies MetricData;
    const descriptor = {
      name: 'edge_relay.edge.request.duration',
      description: 'Duration of those spans, before sampling',
      unit: this.#config.histogram.unit,
      valueType: ValueType.DOUBLE,
    };
    const scope: ScopeMetrics = {
      scope: SCOPE,
      metrics: [
        sum(
          'edge_relay.edge.requests',
          'EdgeWorker request and origin sub-request spans, before sampling',
          '{request}',
          requests,
        ),
        sum('edge_relay.edge.errors', 'Of those, failed ones', '{error}', errors),
        this.#config.histogram.exponential
          ? {
              descriptor,
              aggregationTemporality,
              dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
              dataPoints: expoDurations,
            }
          : {
              descriptor,
              aggregationTemporality,
              dataPointType: DataPointType.HISTOGRAM,
              dataPoints: durations,
            },
      ],
    };
    this.#pending.set(scope, { seq: ++this.#seq, time: now, values, expo });
    // Nothing new: no push at all (the reader skips an empty collection).
    const scopeMetrics = requests.length > 0 ? [scope] : [];
    return { resourceMetrics: { resource: resourceFromAttributes({}), scopeMetrics }, errors: [] };
  }

  /** The backend took this export: later deltas start from it. */
  accepted(metrics: ResourceMetrics): void {
    for (const scope of metrics.scopeMetrics) {
      const collected = this.#pending.get(scope);
      if (collected && collected.seq > this.#committed.seq) this.#committed = collected;
    }
  }
}

/** An OTLPExporterError carries the HTTP status; without one the request did not get an answer. */
function retryable(result: ExportResult): boolean {
  const code = (result.error as { code?: number } | undefined)?.code;
  return code === undefined || RETRYABLE_STATUS.has(code);
}

/**
 * The SDK's OTLP/HTTP protobuf exporter with exporter.retry_on_failure on top: a push that failed with a
 * retryable answer (429, 502, 503, 504 or no answer) is tried again with the same backoff as spans, for as
 * long as the push may take (until the next one is due). Only one push is in flight at a time.
 */
class RetryingMetricExporter implements PushMetricExporter {
  readonly #inner: OTLPMetricExporter;
  readonly #retry: RetryConfig;
  readonly #budget: number;
  readonly #producer: VersionHealthProducer;
  readonly #log: Logger;
  #busy = false;

  constructor(
    inner: OTLPMetricExporter,
    retry: RetryConfig,
    budget: number,
    producer: VersionHealthProducer,
    log: Logger,
  ) {
    this.#inner = inner;
    this.#retry = retry;
    this.#budget = budget;
    this.#producer = producer;
    this.#log = log;
  }

  export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
    if (this.#busy) {
      done({
        code: ExportResultCode.FAILED,
        error: new Error('the previous metrics push is still being retried'),
      });
      return;
    }
    this.#busy = true;
    this.#send(metrics).then((result) => {
      this.#busy = false;
      if (result.code === ExportResultCode.SUCCESS) this.#producer.accepted(metrics);
      else
        this.#log.warn(
          { err: result.error },
          'version health metrics push failed; the next push carries its data',
        );
      done(result);
    });
  }

  async #send(metrics: ResourceMetrics): Promise<ExportResult> {
    const deadline = Date.now() + this.#budget;
    for (let attempt = 0; ; attempt++) {
      const result = await new Promise<ExportResult>((resolve) => this.#inner.export(metrics, resolve));
      if (result.code === ExportResultCode.SUCCESS || !this.#retry.enabled || !retryable(result))
        return result;
      const delay = backoffDelay(this.#retry, attempt);
      if (Date.now() + delay >= deadline) return result;
      await sleep(delay);
    }
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }
}

export interface MetricsPush {
  /** A last push of what was counted, given up at the shutdown deadline (epoch ms). */
  stop(deadline: number): Promise<void>;
}

/** Starts pushing version-health metrics to exporter.metrics_endpoint every metrics_flush_interval. */
export function startMetricsPush(
  merged: MergedHealth,
  config: VersionHealthConfig,
  exporter: MetricsExportSettings,
  log: Logger,
): MetricsPush {
  const interval = config.metrics_flush_interval;
  const budget = Math.min(exporter.timeout, interval);
  const producer = new VersionHealthProducer(merged, config);
  type Options = NonNullable<ConstructorParameters<typeof OTLPMetricExporter>[0]>;
  const inner = new OTLPMetricExporter({
    url: exporter.metrics_endpoint,
    headers: exporter.headers,
    // The metrics SDK's exporter compresses with gzip or not at all: zstd and deflate become gzip.
    compression: (exporter.compression === 'none' || exporter.compression === ''
      ? 'none'
      : 'gzip') as Options['compression'],
    timeoutMillis: budget,
    temporalityPreference: producer.delta ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
  });
  const reader = new PeriodicExportingMetricReader({
    exporter: new RetryingMetricExporter(inner, exporter.retry_on_failure, budget, producer, log),
    exportIntervalMillis: interval,
    exportTimeoutMillis: budget,
    metricProducers: [producer],
  });
  // The provider's resource names this replica: replicas push the same series, and cumulative points
  // from two of them must not look like one stream going up and down.
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'edge-relay', 'service.instance.id': hostname() }),
    readers: [reader],
  });
  return {
    async stop(deadline) {
      const last = provider
        .shutdown()
        .catch((err: unknown) => log.warn({ err }, 'last version health push failed'));
      await Promise.race([last, atDeadline(deadline, undefined)]);
    },
  };
}
