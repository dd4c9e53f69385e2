import { type RetryConfig, retryOnFailureSchema } from '../lib/retry.ts';
import { duration } from '../lib/schema-keywords.ts';

/** Mirrors the Collector's `otlphttp` exporter: same keys, same defaults. */
export interface ExporterConfig {
  /** Full URL of the OTLP/HTTP traces endpoint. Empty: spans go to the debug exporter. */
  traces_endpoint: string;
  /** Full URL of the OTLP/HTTP metrics endpoint for version_health; empty: metrics are only on /metrics. */
  metrics_endpoint: string;
  headers: Record<string, string>;
  compression: 'gzip' | 'none';
  /** Milliseconds one export request may take. */
  timeout: number;
  retry_on_failure: RetryConfig;
  sending_queue: SendingQueueConfig;
}

export interface SendingQueueConfig {
  enabled: boolean;
  /** Export requests in flight at once, per worker. */
  num_consumers: number;
  /** Batches waiting to be sent, per worker, when held in memory; a full queue drops new batches (counted). */
  queue_size: number;
  /** Directory for the persistent queue (one subdirectory per worker shard); empty keeps batches in memory. */
  storage: string;
  /** Bytes of encoded batches the storage directory may hold, over all shards. */
  storage_max_bytes: number;
}

export interface DebugExporterConfig {
  /** basic: one summary line per batch; detailed: one line per span. */
  verbosity: 'basic' | 'detailed';
}

const otlpUrl = {
  anyOf: [
    { type: 'string', const: '' },
    { type: 'string', pattern: '^https?://[^\\s/]+(/\\S*)?$' },
  ],
  default: '',
} as const;

export const exporterSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    traces_endpoint: otlpUrl,
    metrics_endpoint: otlpUrl,
    headers: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
    compression: { enum: ['gzip', 'none'], default: 'gzip' },
    timeout: duration('30s'),
    retry_on_failure: retryOnFailureSchema,
    sending_queue: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        num_consumers: { type: 'integer', minimum: 1, maximum: 256, default: 10 },
        queue_size: { type: 'integer', minimum: 1, default: 1000 },
        storage: { type: 'string', default: '' },
        storage_max_bytes: { type: 'integer', minimum: 1048576, default: 1073741824 },
      },
    },
  },
} as const;

export const debugExporterSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: { verbosity: { enum: ['basic', 'detailed'], default: 'basic' } },
} as const;

/**
 * The OTLP exporter runs only with an endpoint and every configured header filled in: sending to
 * Lightstep with an empty access token would be refused and every span lost, so an empty header
 * sends spans to the debug exporter instead and says which header is missing.
 */
export function missingExporterSetting(
  config: ExporterConfig,
  endpoint: 'traces_endpoint' | 'metrics_endpoint' = 'traces_endpoint',
): string | undefined {
  if (config[endpoint] === '') return `exporter.${endpoint}`;
  for (const [name, value] of Object.entries(config.headers)) {
    if (value === '') return `exporter.headers.${name}`;
  }
  return undefined;
}
