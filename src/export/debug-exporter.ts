import type { SettledSegmentsWriter } from '../telemetry/settled-segments.ts';
import type { SharedMetricsWriter } from '../telemetry/shared-metrics.ts';
import type { DebugExporterConfig } from './config.ts';
import type { Exporter } from './exporter.ts';

const attributeText = (
  attributes: readonly { key: string; value: { type: string; value?: unknown } }[],
): string => attributes.map((a) => `${a.key}=${String(a.value.value)}`).join(' ');

/** Prints spans to stdout instead of sending them: the default until a backend is configured. */
export function debugExporter(
  config: DebugExporterConfig,
  metrics: SharedMetricsWriter,
  write: (line: string) => void,
  settled?: SettledSegmentsWriter,
): Exporter {
  return {
    export(records) {
      if (config.verbosity === 'basic') {
        const traces = new Set(records.map((r) => r.span.traceId)).size;
        write(`debug exporter: ${records.length} spans in ${traces} traces`);
      } else {
        for (const { span, resource } of records) {
          const ms = Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1e6;
          write(
            `debug exporter: trace=${span.traceId} span=${span.spanId} parent=${span.parentSpanId || '-'} ` +
              `name="${span.name}" kind=${span.kind} status=${span.status.code} duration=${ms}ms ` +
              `resource{${attributeText(resource.attributes)}} attributes{${attributeText(span.attributes)}}`,
          );
        }
      }
      metrics.add('spansExported', records.length);
      settled?.settle(records);
    },
    async drain() {},
  };
}
