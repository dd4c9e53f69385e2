import { FIXED_DIMENSIONS, promLabel, type VersionHealthConfig } from './config.ts';
import type { MergedHealth, MergedSeries } from './merged-health.ts';
import { ERRORS, type Exemplar, FIRST_BUCKET, REQUESTS, SUM } from './snapshot.ts';

export const REQUESTS_METRIC = 'edge_relay_edge_requests_total';
export const ERRORS_METRIC = 'edge_relay_edge_errors_total';
export const DURATION_METRIC = 'edge_relay_edge_request_duration_seconds';

const escapeLabel = (value: string): string =>
  value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function exemplarText(exemplar: Exemplar | undefined): string {
  if (!exemplar) return '';
  return ` # {trace_id="${exemplar.traceId}",span_id="${exemplar.spanId}"} ${exemplar.value} ${exemplar.time / 1000}`;
}

/**
 * Writes the merged version-health series as exposition text: two counters and a histogram in seconds,
 * with exemplars (of kept traces) on the errors counter and on each bucket in OpenMetrics. These series
 * are the bulk of /metrics (at the default limit, 2000 series of 21 samples each), and the scrape runs on
 * the thread that acknowledges beacons, so the text is written directly, with each series' labels
 * rendered once, rather than through prom-client's per-sample formatting (several times slower).
 */
export function versionHealthExposition(
  merged: MergedHealth,
  config: VersionHealthConfig,
): (openMetrics: boolean) => string {
  const names = [...FIXED_DIMENSIONS, ...config.dimensions.map((d) => d.name)].map(promLabel);
  const les = [...config.histogram.explicit.buckets.map((ms) => String(ms / 1000)), '+Inf'];
  const labelTexts = new WeakMap<MergedSeries, string>();
  const labelsOf = (series: MergedSeries): string => {
    let text = labelTexts.get(series);
    if (text === undefined) {
      text = series.overflow
        ? 'otel_metric_overflow="true"'
        : names.map((name, i) => `${name}="${escapeLabel(series.labels[i] as string)}"`).join(',');
      labelTexts.set(series, text);
    }
    return text;
  };
  const family = (openMetrics: boolean, name: string, type: string, help: string): string => {
    const familyName = openMetrics && type === 'counter' ? name.replace(/_total$/, '') : name;
    return `# HELP ${familyName} ${help}\n# TYPE ${familyName} ${type}\n`;
  };
  return (openMetrics) => {
    const series = merged.series;
    const parts: string[] = [
      family(
        openMetrics,
        REQUESTS_METRIC,
        'counter',
        'Spans of EdgeWorker requests (server) and origin sub-requests (client), counted before sampling',
      ),
    ];
    for (const s of series) parts.push(`${REQUESTS_METRIC}{${labelsOf(s)}} ${s.values[REQUESTS]}\n`);
    parts.push(
      family(
        openMetrics,
        ERRORS_METRIC,
        'counter',
        'Of those, failed ones: status ERROR, or an HTTP 5xx answer of a server span',
      ),
    );
    for (const s of series) {
      const exemplar = openMetrics ? exemplarText(s.errorExemplar) : '';
      parts.push(`${ERRORS_METRIC}{${labelsOf(s)}} ${s.values[ERRORS]}${exemplar}\n`);
    }
    parts.push(family(openMetrics, DURATION_METRIC, 'histogram', 'Duration of those spans, before sampling'));
    for (const s of series) {
      const labels = labelsOf(s);
      let cumulative = 0;
      for (let b = 0; b < les.length; b++) {
        cumulative += s.values[FIRST_BUCKET + b] as number;
        const exemplar = openMetrics ? exemplarText(s.exemplars[b]) : '';
        parts.push(`${DURATION_METRIC}_bucket{${labels},le="${les[b]}"} ${cumulative}${exemplar}\n`);
      }
      parts.push(`${DURATION_METRIC}_sum{${labels}} ${s.values[SUM]}\n`);
      parts.push(`${DURATION_METRIC}_count{${labels}} ${cumulative}\n`);
    }
    return parts.join('');
  };
}
