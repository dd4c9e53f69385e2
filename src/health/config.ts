import { ConfigError } from '../lib/errors.ts';
import { duration } from '../lib/schema-keywords.ts';
import { SPAN_KIND_NAMES } from '../model/span.ts';

// The `version_health` block: RED metrics counted from every span before sampling. Keys follow the
// Collector's spanmetrics connector where they mean the same thing (dimensions, histogram,
// aggregation_temporality, metrics_flush_interval, aggregation_cardinality_limit); `span_kinds` and
// `exemplars.enabled`'s default are the relay's own. Documented in docs/version-health.md.

export { SPAN_KIND_NAMES };
export type SpanKindName = (typeof SPAN_KIND_NAMES)[number];

export interface Dimension {
  /** Span attribute, else resource attribute, whose value labels the series. */
  name: string;
  /** Used when neither has the attribute; without it the label is empty. */
  default?: string;
}

export interface VersionHealthConfig {
  /** Which spans count; the default is what a user's request and the origin cost. */
  span_kinds: SpanKindName[];
  dimensions: Dimension[];
  histogram: {
    /** Unit of the pushed OTLP histogram; /metrics is always in seconds. */
    unit: 'ms' | 's';
    /** Upper bounds in milliseconds, ascending: /metrics, and the OTLP push unless `exponential` is set. */
    explicit: { buckets: number[] };
    /** The OTLP push sends a base-2 exponential histogram of at most max_size buckets instead. */
    exponential?: { max_size: number };
  };
  /** Of the OTLP push; /metrics is cumulative, as Prometheus expects. */
  aggregation_temporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE' | 'AGGREGATION_TEMPORALITY_DELTA';
  /** Milliseconds between OTLP pushes. */
  metrics_flush_interval: number;
  /** Series per metric, the overflow series included. */
  aggregation_cardinality_limit: number;
  exemplars: { enabled: boolean };
}

/** The spanmetrics connector's default buckets. */
const DEFAULT_BUCKETS = [
  '2ms',
  '4ms',
  '6ms',
  '8ms',
  '10ms',
  '50ms',
  '100ms',
  '200ms',
  '400ms',
  '800ms',
  '1s',
  '1400ms',
  '2s',
  '5s',
  '10s',
  '15s',
];

/** No default on the block itself: without `version_health:` nothing is counted. */
export const versionHealthSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    span_kinds: {
      type: 'array',
      items: { enum: SPAN_KIND_NAMES },
      uniqueItems: true,
      minItems: 1,
      default: ['SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT'],
    },
    dimensions: {
      type: 'array',
      default: [],
      maxItems: 16,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 256 },
          default: { type: 'string', maxLength: 256 },
        },
      },
    },
    histogram: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        unit: { enum: ['ms', 's'], default: 's' },
        explicit: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            buckets: {
              type: 'array',
              minItems: 1,
              maxItems: 64,
              items: { 'x-duration': true },
              default: DEFAULT_BUCKETS,
            },
          },
        },
        exponential: {
          type: 'object',
          additionalProperties: false,
          properties: { max_size: { type: 'integer', minimum: 2, maximum: 16384, default: 160 } },
        },
      },
    },
    aggregation_temporality: {
      enum: ['AGGREGATION_TEMPORALITY_CUMULATIVE', 'AGGREGATION_TEMPORALITY_DELTA'],
      default: 'AGGREGATION_TEMPORALITY_CUMULATIVE',
    },
    metrics_flush_interval: duration('15s'),
    aggregation_cardinality_limit: { type: 'integer', minimum: 2, maximum: 100000, default: 2000 },
    exemplars: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { enabled: { type: 'boolean', default: true } },
    },
  },
} as const;

/** Label names every series has, in this order, before the configured dimensions. */
export const FIXED_DIMENSIONS = [
  'akamai.edgeworker.id',
  'akamai.edgeworker.version',
  'akamai.edge.pop',
  'span.name',
  'span.kind',
] as const;

/** The Prometheus label for an attribute name, as OpenTelemetry's Prometheus exporters translate it. */
export const promLabel = (name: string): string => name.replace(/[^a-zA-Z0-9_]/g, '_');

/** What JSON Schema cannot say: ascending buckets, distinct label names. */
export function checkVersionHealth(config: VersionHealthConfig): void {
  const buckets = config.histogram.explicit.buckets;
  for (let i = 1; i < buckets.length; i++) {
    if ((buckets[i] as number) <= (buckets[i - 1] as number)) {
      throw new ConfigError(`version_health.histogram.explicit.buckets[${i}]`, 'buckets must be ascending');
    }
  }
  const labels = new Set<string>(FIXED_DIMENSIONS.map(promLabel));
  labels.add('le');
  labels.add('otel_metric_overflow');
  for (const [i, dimension] of config.dimensions.entries()) {
    const label = promLabel(dimension.name);
    if (labels.has(label)) {
      throw new ConfigError(
        `version_health.dimensions[${i}].name`,
        `"${dimension.name}" is already a label of these metrics (as ${label})`,
      );
    }
    labels.add(label);
  }
}
