import { type ConfigOf, component, REDACTED } from '../lib/component.ts';
import { retryOnFailureSchema } from '../lib/retry.ts';
import { duration, optionalUrl, section } from '../lib/schema-keywords.ts';
import { clientTlsSchema } from '../lib/tls.ts';

/** Mirrors the Collector's `otlphttp` exporter: same keys, same defaults. */
export const exporterComponent = component({
  key: 'exporter',
  schema: section({
    // The backend's base URL; /v1/traces is appended, as the Collector does. traces_endpoint wins.
    endpoint: optionalUrl,
    // Full URL of the OTLP/HTTP traces endpoint. Neither set: spans go to the debug exporter.
    traces_endpoint: optionalUrl,
    // Full URL of the OTLP/HTTP metrics endpoint for version_health; empty: metrics are only on /metrics.
    metrics_endpoint: optionalUrl,
    headers: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
    // "" is none, as in the Collector; snappy, lz4 and zlib are refused (docs/configuration.md).
    compression: { enum: ['gzip', 'zstd', 'deflate', 'none', ''], default: 'gzip' },
    encoding: { enum: ['proto', 'json'], default: 'proto' },
    tls: clientTlsSchema,
    // An HTTP(S) proxy for the requests to the backend, e.g. http://proxy.internal:3128.
    proxy_url: optionalUrl,
    // Accepted for the Collector's configs; Node sizes its socket buffers itself, so they change nothing.
    read_buffer_size: { type: 'integer', minimum: 0, default: 0 },
    write_buffer_size: { type: 'integer', minimum: 0, default: 0 },
    // One export request may take this long.
    timeout: duration('30s'),
    retry_on_failure: retryOnFailureSchema,
    // The Collector exporterhelper's batching, for its configs: when enabled it sets the batch processor.
    batcher: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean', default: true },
        flush_timeout: duration('200ms'),
        sizer: { enum: ['items'], default: 'items' },
        min_size: { type: 'integer', minimum: 1, default: 8192 },
        max_size: { type: 'integer', minimum: 0, default: 0 },
      },
    },
    sending_queue: section({
      enabled: { type: 'boolean', default: true },
      // Export requests in flight at once, per worker.
      num_consumers: { type: 'integer', minimum: 1, maximum: 256, default: 10 },
      // Batches waiting to be sent, per worker, when held in memory; a full queue drops new batches (counted).
      queue_size: { type: 'integer', minimum: 1, default: 1000 },
      // Where the persistent queue lives (one subdirectory per worker shard): a directory, or the name of a
      // file_storage extension (the Collector's form); empty keeps batches in memory.
      storage: { type: 'string', default: '' },
      // Bytes of encoded batches the storage directory may hold, over all shards.
      storage_max_bytes: { type: 'integer', minimum: 1048576, default: 1073741824 },
    }),
  }),
  // Every header counts as a credential: which of them carries the token is the backend's business.
  redact: (config) => ({
    ...config,
    headers: Object.fromEntries(Object.keys(config.headers).map((name) => [name, REDACTED])),
    tls: { ...config.tls, key_pem: config.tls.key_pem && REDACTED },
    // A proxy URL may carry user:password.
    proxy_url: config.proxy_url && REDACTED,
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
export function missingExporterSetting(
  config: ExporterConfig,
  endpoint: 'traces_endpoint' | 'metrics_endpoint' = 'traces_endpoint',
): string | undefined {
  const url = endpoint === 'traces_endpoint' ? tracesUrl(config) : config.metrics_endpoint;
  if (url === '') return `exporter.${endpoint}`;
  for (const [name, value] of Object.entries(config.headers)) {
    if (value === '') return `exporter.headers.${name}`;
  }
  return undefined;
}

/** Where traces go: traces_endpoint as given, else endpoint with the OTLP/HTTP traces path; "" when neither. */
export function tracesUrl(config: Pick<ExporterConfig, 'endpoint' | 'traces_endpoint'>): string {
  if (config.traces_endpoint !== '') return config.traces_endpoint;
  return config.endpoint === '' ? '' : `${config.endpoint.replace(/\/+$/, '')}/v1/traces`;
}
