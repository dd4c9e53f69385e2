import { type ConfigOf, component, REDACTED } from '../lib/component.ts';
import { retryOnFailureSchema } from '../lib/retry.ts';
import { duration, section } from '../lib/schema-keywords.ts';

/** Mirrors the Collector's `otlphttp` exporter: same keys, same defaults. */
export const exporterComponent = component({
  key: 'exporter',
  schema: section({
    // Full URL of the OTLP/HTTP traces endpoint. Empty: spans go to the debug exporter.
    traces_endpoint: {
      anyOf: [
        { type: 'string', const: '' },
        { type: 'string', pattern: '^https?://[^\\s/]+(/\\S*)?$' },
      ],
      default: '',
    },
    headers: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
    compression: { enum: ['gzip', 'none'], default: 'gzip' },
    // One export request may take this long.
    timeout: duration('30s'),
    retry_on_failure: retryOnFailureSchema,
    sending_queue: section({
      enabled: { type: 'boolean', default: true },
      // Export requests in flight at once, per worker.
      num_consumers: { type: 'integer', minimum: 1, maximum: 256, default: 10 },
      // Batches waiting to be sent, per worker, when held in memory; a full queue drops new batches (counted).
      queue_size: { type: 'integer', minimum: 1, default: 1000 },
      // Directory for the persistent queue (one subdirectory per worker shard); empty keeps batches in memory.
      storage: { type: 'string', default: '' },
      // Bytes of encoded batches the storage directory may hold, over all shards.
      storage_max_bytes: { type: 'integer', minimum: 1048576, default: 1073741824 },
    }),
  }),
  // Every header counts as a credential: which of them carries the token is the backend's business.
  redact: (config) => ({
    ...config,
    headers: Object.fromEntries(Object.keys(config.headers).map((name) => [name, REDACTED])),
  }),
});
export type ExporterConfig = ConfigOf<typeof exporterComponent.schema>;
export type SendingQueueConfig = ExporterConfig['sending_queue'];

/** Prints spans instead of sending them. basic: one summary line per batch; detailed: one line per span. */
export const debugExporterComponent = component({
  key: 'debug',
  schema: section({ verbosity: { enum: ['basic', 'detailed'], default: 'basic' } }),
});
export type DebugExporterConfig = ConfigOf<typeof debugExporterComponent.schema>;

/**
 * The OTLP exporter runs only with an endpoint and every configured header filled in: sending to
 * Lightstep with an empty access token would be refused and every span lost, so an empty header
 * sends spans to the debug exporter instead and says which header is missing.
 */
export function missingExporterSetting(config: ExporterConfig): string | undefined {
  if (config.traces_endpoint === '') return 'exporter.traces_endpoint';
  for (const [name, value] of Object.entries(config.headers)) {
    if (value === '') return `exporter.headers.${name}`;
  }
  return undefined;
}
