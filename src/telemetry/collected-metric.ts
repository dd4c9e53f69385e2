import type { Registry } from 'prom-client';

export interface CollectedValue {
  labels: Record<string, string | number>;
  value: number;
  /** For histograms: the series name with its suffix (`_bucket`, `_count`, `_sum`). */
  metricName?: string;
}

/**
 * Registers a metric whose samples are read when /metrics is scraped (from memory the worker threads
 * write), rather than set as events happen. prom-client's metric classes only count up from events, so
 * such a metric is a plain object with the registry's `get` contract.
 */
export function registerCollected(
  registry: Registry,
  metric: { name: string; help: string; type: 'counter' | 'gauge' | 'histogram' },
  values: () => CollectedValue[],
): void {
  registry.registerMetric({
    name: metric.name,
    help: metric.help,
    async get() {
      return { ...metric, aggregator: 'sum', values: values() };
    },
    reset() {},
  } as unknown as Parameters<Registry['registerMetric']>[0]);
}

/**
 * The exposition samples of a histogram from per-bucket counts (the last is +Inf's) and the sum of
 * values; `labels` are those of the series (a histogram with a label is one such set per value).
 */
export function histogramValues(
  name: string,
  buckets: readonly number[],
  counts: readonly number[],
  sum: number,
  labels: Record<string, string> = {},
): CollectedValue[] {
  let cumulative = 0;
  const values: CollectedValue[] = [...buckets, '+Inf'].map((le, i) => {
    cumulative += counts[i] ?? 0;
    return { metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative };
  });
  values.push({ metricName: `${name}_count`, labels, value: cumulative });
  values.push({ metricName: `${name}_sum`, labels, value: sum });
  return values;
}
