import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, resolveConfig } from '../service/load-config.ts';

const check =
  (tailSampling: unknown, extra: Record<string, unknown> = {}) =>
  () =>
    resolveConfig({ tail_sampling: tailSampling, ...extra });
const policies = (...list: unknown[]) => ({ policies: list });

describe('tail_sampling validation', () => {
  it('names the policy and the key of a bad value', () => {
    const bad = policies(
      { name: 'all', type: 'always_sample' },
      { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERR'] } },
    );
    expect(check(bad)).toThrow(
      'tail_sampling.policies[1] (name "errors").status_code.status_codes[0]: must be one of "OK", "ERROR", "UNSET"',
    );
  });
  it('names nested policies', () => {
    const nested = policies({
      name: 'outer',
      type: 'and',
      and: { and_sub_policy: [{ name: 'inner', type: 'latency', latency: { threshold_ms: -1 } }] },
    });
    expect(check(nested)).toThrow(
      'tail_sampling.policies[0] (name "outer").and.and_sub_policy[0] (name "inner").latency.threshold_ms: must be >= 0',
    );
  });
  it('requires the settings block of the policy type and refuses blocks of other types', () => {
    expect(check(policies({ name: 'p', type: 'probabilistic' }))).toThrow(
      'tail_sampling.policies[0] (name "p").probabilistic: required key is missing',
    );
    expect(
      check(policies({ name: 'p', type: 'latency', latency: { threshold_ms: 1 }, probabilistic: {} })),
    ).toThrow(
      'tail_sampling.policies[0] (name "p").probabilistic: does not apply to a policy of type latency',
    );
  });
  it('refuses ottl_condition and suggests the equivalent policy', () => {
    const ottl = policies({
      name: 'prod',
      type: 'ottl_condition',
      ottl_condition: { error_mode: 'ignore', span: ['attributes["http.response.status_code"] >= 500'] },
    });
    expect(check(ottl)).toThrow(
      'tail_sampling.policies[0] (name "prod").type: ottl_condition is not supported by edge-relay; the condition ' +
        '"attributes[\\"http.response.status_code\\"] >= 500" is the policy numeric_attribute: {key: http.response.status_code, min_value: 500}',
    );
  });
  it('checks regular expressions, bounds, composite references and duplicate names', () => {
    const regex = {
      name: 'r',
      type: 'string_attribute',
      string_attribute: { key: 'k', values: ['('], enabled_regex_matching: true },
    };
    expect(check(policies(regex))).toThrow(
      'tail_sampling.policies[0] (name "r").string_attribute.values[0]: is not a valid regular expression',
    );
    const band = { name: 'b', type: 'latency', latency: { threshold_ms: 10, upper_threshold_ms: 5 } };
    expect(check(policies(band))).toThrow(
      '(name "b").latency.upper_threshold_ms: must not be less than threshold_ms',
    );
    const comp = {
      name: 'c',
      type: 'composite',
      composite: {
        max_total_spans_per_second: 10,
        policy_order: ['a', 'x'],
        composite_sub_policy: [{ name: 'a', type: 'always_sample' }],
      },
    };
    expect(check(policies(comp))).toThrow(
      '(name "c").composite.policy_order[1]: no composite_sub_policy is named "x"',
    );
    const all = { name: 'all', type: 'always_sample' };
    expect(check(policies(all, all))).toThrow(
      'tail_sampling.policies[1] (name "all").name: another policy has the same name',
    );
  });
  it('refuses stateful policies with span-ingest', () => {
    const rate = { name: 'rl', type: 'rate_limiting', rate_limiting: { spans_per_second: 5 } };
    expect(check({ sampling_strategy: 'span-ingest', ...policies(rate) })).toThrow(
      'cannot be used with sampling_strategy span-ingest',
    );
  });
  it('refuses num_shards that contradicts workers.threads', () => {
    const all = { name: 'all', type: 'always_sample' };
    expect(check({ num_shards: 4, ...policies(all) }, { workers: { threads: 2 } })).toThrow(
      'tail_sampling.num_shards',
    );
    expect(check({ num_shards: 2, ...policies(all) }, { workers: { threads: 2 } })).not.toThrow();
  });
  it('accepts the example whose tail_sampling block is pasted from a Collector config', () => {
    const config = loadConfig(
      fileURLToPath(new URL('../../config/examples/tail-sampling.yaml', import.meta.url)),
    );
    expect(config.tail_sampling?.policies.map((p) => p.type)).toContain('composite');
    expect(config.tail_sampling?.decision_wait).toBe(10_000);
  });
});
