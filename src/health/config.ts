import { type ConfigOf, component } from '../lib/component.ts';
import { ConfigError } from '../lib/errors.ts';
import { duration, section } from '../lib/schema-keywords.ts';
import { SPAN_KIND_NAMES } from '../model/span.ts';
import { actionsSchema, checkActions, redactActions } from './actions-config.ts';
import { checkJudge, judgeSchema } from './judge-config.ts';

// The `version_health` block: RED metrics counted from every span before sampling. Keys follow the
// Collector's spanmetrics connector where they mean the same thing (dimensions, histogram,
// aggregation_temporality, metrics_flush_interval, aggregation_cardinality_limit); `span_kinds` and
// `exemplars.enabled`'s default are the relay's own. Documented in docs/version-health.md.

export { SPAN_KIND_NAMES };
export type SpanKindName = (typeof SPAN_KIND_NAMES)[number];

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

// A known keyword beside x-duration, so that the fragment is a schema the type derivation takes as array items.
const durationItem = { 'x-duration': true, $comment: 'a duration, milliseconds once validated' } as const;

/** No default on the block itself: without `version_health:` nothing is counted. */
const versionHealthSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // Which spans count; the default is what a user's request and the origin cost.
    span_kinds: {
      type: 'array',
      items: { enum: SPAN_KIND_NAMES },
      uniqueItems: true,
      minItems: 1,
      default: ['SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT'],
    },
    // Span attribute, else resource attribute, whose value labels the series (`default` when neither has it).
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
    histogram: section({
      // Of the pushed OTLP histogram; /metrics is always in seconds.
      unit: { enum: ['ms', 's'], default: 's' },
      // Upper bounds, ascending: /metrics, and the OTLP push unless `exponential` is set.
      explicit: section({
        buckets: {
          type: 'array',
          minItems: 1,
          maxItems: 64,
          items: durationItem,
          default: DEFAULT_BUCKETS,
        },
      }),
      // The OTLP push sends a base-2 exponential histogram of at most max_size buckets instead.
      exponential: {
        type: 'object',
        additionalProperties: false,
        properties: { max_size: { type: 'integer', minimum: 2, maximum: 16384, default: 160 } },
      },
    }),
    // Of the OTLP push; /metrics is cumulative, as Prometheus expects.
    aggregation_temporality: {
      enum: ['AGGREGATION_TEMPORALITY_CUMULATIVE', 'AGGREGATION_TEMPORALITY_DELTA'],
      default: 'AGGREGATION_TEMPORALITY_CUMULATIVE',
    },
    // Between OTLP pushes.
    metrics_flush_interval: duration('15s'),
    // Series per metric, the overflow series included.
    aggregation_cardinality_limit: { type: 'integer', minimum: 2, maximum: 100000, default: 2000 },
    exemplars: section({ enabled: { type: 'boolean', default: true } }),
    // What to do when a version's verdict changes (actions-config.ts); absent: nothing is done.
    actions: actionsSchema,
    // The version judge (src/judge/): verdicts on new versions from these series.
    judge: judgeSchema,
  },
} as const;
export type VersionHealthConfig = ConfigOf<typeof versionHealthSchema>;
export type Dimension = VersionHealthConfig['dimensions'][number];
export type JudgeConfig = VersionHealthConfig['judge'];

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
function checkVersionHealth(config: VersionHealthConfig): void {
  checkJudge(config.judge);
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
  if (config.actions) checkActions(config.actions);
}

export const versionHealthComponent = component({
  key: 'version_health',
  schema: versionHealthSchema,
  check: checkVersionHealth,
  redact: (config) => (config.actions ? { ...config, actions: redactActions(config.actions) } : config),
});
export type ActionsConfig = NonNullable<VersionHealthConfig['actions']>;
export type WebhookConfig = NonNullable<ActionsConfig['webhook']>;
export type EdgeWorkersActionConfig = NonNullable<ActionsConfig['edgeworkers']>;
