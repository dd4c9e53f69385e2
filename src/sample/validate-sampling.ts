import { ConfigError } from '../lib/errors.ts';
import { suggestForOttl } from './ottl-suggestion.ts';
import { nameOf } from './policy-path.ts';
import { POLICY_TYPES, type PolicyConfig, type TailSamplingConfig } from './schema.ts';

/** Policies whose decision depends on what was kept before, which span-ingest cannot evaluate per batch. */
const STATEFUL = new Set(['rate_limiting', 'bytes_limiting', 'span_count', 'composite']);
/** Keys that configure a policy type: only the one named by `type` may appear. */
const SETTINGS_KEYS = new Set<string>(POLICY_TYPES);

function subPolicies(policy: PolicyConfig): [string, PolicyConfig][] {
  if (policy.and) return policy.and.and_sub_policy.map((p, i) => [`and.and_sub_policy[${i}]${nameOf(p)}`, p]);
  if (policy.drop)
    return policy.drop.drop_sub_policy.map((p, i) => [`drop.drop_sub_policy[${i}]${nameOf(p)}`, p]);
  if (policy.not)
    return [[`not.not_sub_policy${nameOf(policy.not.not_sub_policy)}`, policy.not.not_sub_policy]];
  if (policy.composite)
    return policy.composite.composite_sub_policy.map((p, i) => [
      `composite.composite_sub_policy[${i}]${nameOf(p)}`,
      p,
    ]);
  return [];
}

function checkRegexes(key: string, values: readonly string[]): void {
  for (const [i, value] of values.entries()) {
    try {
      new RegExp(value);
    } catch (err) {
      throw new ConfigError(
        `${key}.values[${i}]`,
        `is not a valid regular expression: ${(err as Error).message}`,
      );
    }
  }
}

function checkComposite(key: string, composite: NonNullable<PolicyConfig['composite']>): void {
  const names = new Set(composite.composite_sub_policy.map((p) => p.name));
  for (const [i, name] of composite.policy_order.entries()) {
    if (!names.has(name))
      throw new ConfigError(`${key}.policy_order[${i}]`, `no composite_sub_policy is named "${name}"`);
  }
  for (const [i, allocation] of composite.rate_allocation.entries()) {
    if (!names.has(allocation.policy)) {
      throw new ConfigError(
        `${key}.rate_allocation[${i}].policy`,
        `no composite_sub_policy is named "${allocation.policy}"`,
      );
    }
  }
  const total = composite.rate_allocation.reduce((sum, a) => sum + a.percent, 0);
  if (total > 100)
    throw new ConfigError(`${key}.rate_allocation`, `percents add up to ${total}, more than 100`);
}

function checkPolicy(
  key: string,
  policy: PolicyConfig,
  strategy: TailSamplingConfig['sampling_strategy'],
): void {
  if (policy.type === 'ottl_condition') {
    throw new ConfigError(
      `${key}.type`,
      `ottl_condition is not supported by edge-relay; ${suggestForOttl(policy.ottl_condition)}`,
    );
  }
  for (const setting of Object.keys(policy)) {
    if (SETTINGS_KEYS.has(setting) && setting !== policy.type) {
      throw new ConfigError(`${key}.${setting}`, `does not apply to a policy of type ${policy.type}`);
    }
  }
  if (strategy === 'span-ingest' && STATEFUL.has(policy.type)) {
    throw new ConfigError(
      `${key}.type`,
      `${policy.type} keeps state across traces and cannot be used with sampling_strategy span-ingest`,
    );
  }
  const { latency, numeric_attribute: numeric, span_count: spans, string_attribute: strings } = policy;
  if (latency && latency.upper_threshold_ms > 0 && latency.upper_threshold_ms < latency.threshold_ms) {
    throw new ConfigError(`${key}.latency.upper_threshold_ms`, 'must not be less than threshold_ms');
  }
  if (numeric) {
    if (numeric.min_value === undefined && numeric.max_value === undefined) {
      throw new ConfigError(`${key}.numeric_attribute`, 'needs min_value, max_value or both');
    }
    if ((numeric.max_value ?? Number.POSITIVE_INFINITY) < (numeric.min_value ?? Number.NEGATIVE_INFINITY)) {
      throw new ConfigError(`${key}.numeric_attribute.max_value`, 'must not be less than min_value');
    }
  }
  if (spans && spans.max_spans > 0 && spans.max_spans < spans.min_spans) {
    throw new ConfigError(`${key}.span_count.max_spans`, 'must not be less than min_spans');
  }
  if (strings?.enabled_regex_matching) checkRegexes(`${key}.string_attribute`, strings.values);
  if (policy.composite) checkComposite(`${key}.composite`, policy.composite);
  for (const [subKey, sub] of subPolicies(policy)) checkPolicy(`${key}.${subKey}`, sub, strategy);
}

/** What JSON Schema cannot say about a tail_sampling block; throws a ConfigError naming the policy and key. */
export function checkTailSampling(config: TailSamplingConfig): void {
  const seen = new Set<string>();
  for (const [i, policy] of config.policies.entries()) {
    const key = `tail_sampling.policies[${i}]${nameOf(policy)}`;
    if (seen.has(policy.name)) throw new ConfigError(`${key}.name`, 'another policy has the same name');
    seen.add(policy.name);
    checkPolicy(key, policy, config.sampling_strategy);
  }
}
