import type { Registry } from 'prom-client';
import { type CollectedValue, registerCollected } from '../telemetry/collected-metric.ts';
import { FIXED_DIMENSIONS, promLabel, type VersionHealthConfig } from './config.ts';
import type { MergedHealth, MergedSeries } from './merged-health.ts';
import { ERRORS, type Exemplar, FIRST_BUCKET, REQUESTS, SUM } from './snapshot.ts';

export const REQUESTS_METRIC = 'edge_relay_edge_requests_total';
export const ERRORS_METRIC = 'edge_relay_edge_errors_total';
export const DURATION_METRIC = 'edge_relay_edge_request_duration_seconds';

const OVERFLOW_LABELS = { otel_metric_overflow: 'true' };

function exemplarOf(exemplar: Exemplar | undefined): CollectedValue['exemplar'] {
  if (!exemplar) return undefined;
  return {
    labelSet: { trace_id: exemplar.traceId, span_id: exemplar.spanId },
    value: exemplar.value,
    timestamp: exemplar.time / 1000,
  };
}

/**
 * Serves the merged version-health series on /metrics: two counters and a histogram in seconds, with
 * exemplars (of kept traces) on the errors counter and on each bucket.
 */
export function registerVersionHealthMetrics(
  registry: Registry,
  merged: MergedHealth,
  config: VersionHealthConfig,
): void {
  const names = [...FIXED_DIMENSIONS, ...config.dimensions.map((d) => d.name)].map(promLabel);
  const bounds = config.histogram.explicit.buckets.map((ms) => ms / 1000);
  const labelsOf = (series: MergedSeries): Record<string, string> =>
    series.overflow
      ? OVERFLOW_LABELS
      : Object.fromEntries(names.map((name, i) => [name, series.labels[i] as string]));
  const counter = (slot: number, withExemplar: boolean) => () =>
    merged.series.map((series) => ({
      labels: labelsOf(series),
      value: series.values[slot] as number,
      ...(withExemplar && series.errorExemplar ? { exemplar: exemplarOf(series.errorExemplar) } : {}),
    }));
  registerCollected(
    registry,
    {
      name: REQUESTS_METRIC,
      help: 'Spans of EdgeWorker requests (server) and origin sub-requests (client), counted before sampling',
      type: 'counter',
    },
    counter(REQUESTS, false),
  );
  registerCollected(
    registry,
    {
      name: ERRORS_METRIC,
      help: 'Of those, failed ones: status ERROR, or an HTTP 5xx answer of a server span',
      type: 'counter',
    },
    counter(ERRORS, true),
  );
  registerCollected(
    registry,
    { name: DURATION_METRIC, help: 'Duration of those spans, before sampling', type: 'histogram' },
    () =>
      merged.series.flatMap((series) => {
        const labels = labelsOf(series);
        let cumulative = 0;
        const values: CollectedValue[] = [...bounds, '+Inf' as const].map((le, b) => {
          cumulative += series.values[FIRST_BUCKET + b] as number;
          const exemplar = exemplarOf(series.exemplars[b]);
          return {
            metricName: `${DURATION_METRIC}_bucket`,
            labels: { ...labels, le },
            value: cumulative,
            ...(exemplar ? { exemplar } : {}),
          };
        });
        values.push({ metricName: `${DURATION_METRIC}_count`, labels, value: cumulative });
        values.push({ metricName: `${DURATION_METRIC}_sum`, labels, value: series.values[SUM] as number });
        return values;
      }),
  );
}
