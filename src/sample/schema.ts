import type { JSONSchema } from 'json-schema-to-ts';
import type { ConfigOf } from '../lib/component.ts';
import { duration } from '../lib/schema-keywords.ts';

// The `tail_sampling` block: the OpenTelemetry Collector tail_sampling processor's schema, so a Collector
// policy list can be pasted unchanged, plus a few relay keys (max_buffered_bytes, max_spans_per_trace,
// record_policy). Documented in docs/sampling.md.

export const POLICY_TYPES = [
  'always_sample',
  'latency',
  'numeric_attribute',
  'probabilistic',
  'status_code',
  'string_attribute',
  'rate_limiting',
  'bytes_limiting',
  'span_count',
  'trace_state',
  'trace_flags',
  'boolean_attribute',
  'ottl_condition',
  'and',
  'not',
  'drop',
  'composite',
] as const;
export type PolicyType = (typeof POLICY_TYPES)[number];

const str = { type: 'string', minLength: 1 } as const;
const strings = { type: 'array', items: { type: 'string' } } as const;
const block = <
  const P extends Record<string, JSONSchema>,
  const R extends readonly (keyof P & string)[] = [],
>(
  properties: P,
  required?: R,
) => ({ type: 'object', additionalProperties: false, required: (required ?? []) as R, properties }) as const;

/** Settings of the leaf policy types, keyed like the Collector's YAML. */
const leafSettings = {
  latency: block({
    threshold_ms: { type: 'integer', minimum: 0, default: 0 },
    upper_threshold_ms: { type: 'integer', minimum: 0, default: 0 },
  }),
  numeric_attribute: block(
    {
      key: str,
      min_value: { type: 'number' },
      max_value: { type: 'number' },
      invert_match: { type: 'boolean', default: false },
    },
    ['key'],
  ),
  probabilistic: block({
    sampling_percentage: { type: 'number', minimum: 0, default: 0 },
    hash_salt: { type: 'string', default: '' },
  }),
  status_code: block(
    { status_codes: { type: 'array', minItems: 1, items: { enum: ['OK', 'ERROR', 'UNSET'] } } },
    ['status_codes'],
  ),
  string_attribute: block(
    {
      key: str,
      values: { ...strings, minItems: 1 },
      enabled_regex_matching: { type: 'boolean', default: false },
      cache_max_size: { type: 'integer', minimum: 0, default: 128 },
      invert_match: { type: 'boolean', default: false },
    },
    ['key', 'values'],
  ),
  rate_limiting: block(
    {
      spans_per_second: { type: 'integer', minimum: 1 },
      burst_capacity: { type: 'integer', minimum: 0, default: 0 },
    },
    ['spans_per_second'],
  ),
  bytes_limiting: block(
    {
      bytes_per_second: { type: 'integer', minimum: 1 },
      burst_capacity: { type: 'integer', minimum: 0, default: 0 },
    },
    ['bytes_per_second'],
  ),
  span_count: block({
    min_spans: { type: 'integer', minimum: 0, default: 0 },
    max_spans: { type: 'integer', minimum: 0, default: 0 },
  }),
  trace_state: block({ key: str, values: { ...strings, minItems: 1 } }, ['key', 'values']),
  boolean_attribute: block(
    { key: str, value: { type: 'boolean' }, invert_match: { type: 'boolean', default: false } },
    ['key', 'value'],
  ),
  // Accepted by the schema so that the semantic check can refuse it with a useful suggestion.
  ottl_condition: { type: 'object' },
} as const;

/** Builds the schema of a policy at one nesting level, allowing the given compound types. */
function policySchema(compound: Record<string, JSONSchema>): JSONSchema {
  const settings: Record<string, JSONSchema> = { ...leafSettings, ...compound };
  return {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'type'],
    properties: { name: str, type: { enum: POLICY_TYPES }, ...settings },
    // A policy's type names the block that configures it; types without settings need none.
    allOf: Object.keys(settings)
      .filter((type) => type !== 'ottl_condition')
      .map((type) => ({
        if: { properties: { type: { const: type } } },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, never awaited.
        then: { required: [type], properties: { [type]: true } },
      })),
  };
}

const notOf = (sub: JSONSchema) => ({ not: block({ not_sub_policy: sub }, ['not_sub_policy']) });
const leafPolicy = policySchema({});
const andOf = (sub: JSONSchema) => ({
  and: block({ and_sub_policy: { type: 'array', minItems: 1, items: sub } }, ['and_sub_policy']),
});
const innerPolicy = policySchema(notOf(leafPolicy));
const compositeSettings = block(
  {
    max_total_spans_per_second: { type: 'integer', minimum: 1 },
    policy_order: { ...strings, minItems: 1 },
    rate_allocation: {
      type: 'array',
      default: [],
      items: block({ policy: str, percent: { type: 'number', minimum: 0, maximum: 100 } }, [
        'policy',
        'percent',
      ]),
    },
  },
  ['max_total_spans_per_second', 'policy_order'],
);

/** The block's own settings, whose types are derived; `policies` nest, which types cannot follow. */
const settings = {
  // From a trace's first span to its decision when no root span arrives earlier.
  decision_wait: duration('30s'),
  // After the root span arrives; 0 waits for decision_wait.
  decision_wait_after_root_received: duration('0s'),
  // Traces held at once across all shards; past it the oldest are decided early.
  num_traces: { type: 'integer', minimum: 1, default: 50000 },
  // Accepted for compatibility; maps and queues here grow on demand.
  expected_new_traces_per_sec: { type: 'integer', minimum: 0, default: 0 },
  decision_cache: {
    ...block({
      sampled_cache_size: { type: 'integer', minimum: 0, default: 100000 },
      non_sampled_cache_size: { type: 'integer', minimum: 0, default: 400000 },
    }),
    default: {},
  },
  sample_on_first_match: { type: 'boolean', default: false },
  // 0: no per-trace byte limit.
  maximum_trace_size_bytes: { type: 'integer', minimum: 0, default: 0 },
  sampling_strategy: { enum: ['trace-complete', 'span-ingest'], default: 'trace-complete' },
  // 0: as many as workers.threads.
  num_shards: { type: 'integer', minimum: 0, maximum: 256, default: 0 },
  // 0: a share of the memory available to the process (see docs/sampling.md).
  max_buffered_bytes: { type: 'integer', minimum: 0, default: 0 },
  // 0: no per-trace span limit.
  max_spans_per_trace: { type: 'integer', minimum: 0, default: 10000 },
  // Sets `tailsampling.policy` on kept spans to the policies that kept them.
  record_policy: { type: 'boolean', default: false },
} as const;

export const tailSamplingSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['policies'],
  properties: {
    ...settings,
    policies: {
      type: 'array',
      minItems: 1,
      items: policySchema({
        ...andOf(innerPolicy),
        ...notOf(leafPolicy),
        drop: block({ drop_sub_policy: { type: 'array', minItems: 1, items: innerPolicy } }, [
          'drop_sub_policy',
        ]),
        composite: {
          ...compositeSettings,
          required: [...compositeSettings.required, 'composite_sub_policy'],
          properties: {
            ...compositeSettings.properties,
            composite_sub_policy: {
              type: 'array',
              minItems: 1,
              items: policySchema({ ...andOf(innerPolicy), ...notOf(leafPolicy) }),
            },
          },
        },
      }),
    },
  },
} as const satisfies JSONSchema;

// Types. The leaf policies' settings and the block's own settings are derived from their schemas; the
// compound policies nest policies, a recursion the derivation cannot follow, so their wrappers are typed here.
type Leaf = typeof leafSettings;
type Settings<K extends keyof Leaf> = ConfigOf<Leaf[K]>;
export type LatencyConfig = Settings<'latency'>;
export type NumericAttributeConfig = Settings<'numeric_attribute'>;
export type ProbabilisticConfig = Settings<'probabilistic'>;
export type StatusCodeConfig = Settings<'status_code'>;
export type StringAttributeConfig = Settings<'string_attribute'>;
export type RateLimitingConfig = Settings<'rate_limiting'>;
export type BytesLimitingConfig = Settings<'bytes_limiting'>;
export type SpanCountConfig = Settings<'span_count'>;
export type TraceStateConfig = Settings<'trace_state'>;
export type BooleanAttributeConfig = Settings<'boolean_attribute'>;
export type CompositeConfig = ConfigOf<typeof compositeSettings> & { composite_sub_policy: PolicyConfig[] };

/** One policy at any level; which keys may appear at which level is the schema's business. */
export type PolicyConfig = { name: string; type: PolicyType } & { [K in keyof Leaf]?: Settings<K> } & {
  and?: { and_sub_policy: PolicyConfig[] };
  not?: { not_sub_policy: PolicyConfig };
  drop?: { drop_sub_policy: PolicyConfig[] };
  composite?: CompositeConfig;
};

export type TailSamplingConfig = ConfigOf<{
  type: 'object';
  additionalProperties: false;
  properties: typeof settings;
}> & { policies: PolicyConfig[] };
