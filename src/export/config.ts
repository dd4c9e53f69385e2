import { ConfigError } from '../lib/errors.ts';
import { type RetryConfig, retryOnFailureSchema } from '../lib/retry.ts';
import { duration } from '../lib/schema-keywords.ts';

/** Mirrors the Collector's `otlphttp` exporter: same keys, same defaults. */
export interface ExporterConfig {
  /** Full URL of the OTLP/HTTP traces endpoint. Empty: spans go to the debug exporter. */
  traces_endpoint: string;
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

export const exporterSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    // Checked by checkExporter, which can say what is wrong in words.
    traces_endpoint: { type: 'string', default: '' },
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
export function missingExporterSetting(config: ExporterConfig): string | undefined {
  if (config.traces_endpoint === '') return 'exporter.traces_endpoint';
  for (const [name, value] of Object.entries(config.headers)) {
    if (value === '') return `exporter.headers.${name}`;
  }
  return undefined;
}

const HTTP_URL = /^https?:\/\/[^\s/]+(\/\S*)?$/;

/** What the schema cannot say well: `traces_endpoint` is an http(s) URL, or empty. */
export function checkExporter(config: ExporterConfig): void {
  const url = config.traces_endpoint;
  if (url === '' || (HTTP_URL.test(url) && URL.canParse(url))) return;
  throw new ConfigError(
    'exporter.traces_endpoint',
    'must be an http:// or https:// URL, such as https://ingest.lightstep.com/traces/otlp/v0.9 (or empty, for the debug exporter)',
  );
}
