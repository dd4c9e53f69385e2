import type { Registry } from 'prom-client';
import type { CollectedValue } from './collected-metric.ts';

export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** Whether a scraper's Accept header asks for OpenMetrics (Prometheus does when exemplar storage is on). */
export const wantsOpenMetrics = (accept: string | undefined): boolean =>
  accept?.includes('application/openmetrics-text') ?? false;

const escapeText = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeValue = (text: string): string => escapeText(text).replace(/"/g, '\\"');

function number(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function labelText(labels: Record<string, string | number>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeValue(String(v))}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

type Sample = CollectedValue & {
  sharedLabels?: Record<string, string | number>;
  exemplar?: { labelSet: Record<string, string>; value: number; timestamp: number };
};

/**
 * The registry in OpenMetrics text, with exemplars. prom-client can write OpenMetrics only from a registry
 * switched to that content type, and switching renames its counters for good (it strips `_total` from the
 * registered names), so the one registry stays in Prometheus format and this writes OpenMetrics from its
 * samples: counter families without `_total`, their samples with it, `# EOF` at the end.
 */
export async function openMetricsText(registry: Registry, extra: readonly string[] = []): Promise<string> {
  const lines: string[] = [];
  for (const metric of await registry.getMetricsAsJSON()) {
    const counter = String(metric.type) === 'counter';
    const family = counter ? metric.name.replace(/_total$/, '') : metric.name;
    lines.push(`# HELP ${family} ${escapeText(metric.help)}`);
    lines.push(`# TYPE ${family} ${metric.type}`);
    for (const sample of metric.values as Sample[]) {
      const name = sample.metricName ?? (counter ? `${family}_total` : family);
      let line = `${name}${labelText({ ...sample.labels, ...sample.sharedLabels })} ${number(sample.value)}`;
      const exemplar = sample.exemplar;
      if (exemplar) {
        line += ` # ${labelText(exemplar.labelSet) || '{}'} ${number(exemplar.value)} ${exemplar.timestamp}`;
      }
      lines.push(line);
    }
  }
  return `${lines.join('\n')}\n${extra.join('')}# EOF\n`;
}
