import { alwaysSample } from './always-sample.ts';
import { and } from './and.ts';
import { booleanAttribute } from './boolean-attribute.ts';
import { bytesLimiting } from './bytes-limiting.ts';
import { composite } from './composite.ts';
import { drop } from './drop.ts';
import { latency } from './latency.ts';
import { not } from './not.ts';
import { numericAttribute } from './numeric-attribute.ts';
import type { Clock, Policy, Trace } from './policy.ts';
import { probabilistic } from './probabilistic.ts';
import { rateLimiting } from './rate-limiting.ts';
import type { PolicyConfig, TailSamplingConfig } from './schema.ts';
import { spanCount } from './span-count.ts';
import { statusCode } from './status-code.ts';
import { stringAttribute } from './string-attribute.ts';
import { traceFlags } from './trace-flags.ts';
import { traceState } from './trace-state.ts';

/** Builds the evaluator of one validated policy; `share` is this shard's part of rate limits. */
export function buildPolicy(config: PolicyConfig, share: number, clock: Clock): Policy {
  const { name } = config;
  const sub = (c: PolicyConfig) => buildPolicy(c, share, clock);
  const need = <T>(settings: T | undefined): T => {
    if (settings === undefined) throw new Error(`policy "${name}" of type ${config.type} has no settings`);
    return settings;
  };
  switch (config.type) {
    case 'always_sample':
      return alwaysSample(name);
    case 'latency':
      return latency(name, need(config.latency));
    case 'numeric_attribute':
      return numericAttribute(name, need(config.numeric_attribute));
    case 'probabilistic':
      return probabilistic(name, need(config.probabilistic));
    case 'status_code':
      return statusCode(name, need(config.status_code));
    case 'string_attribute':
      return stringAttribute(name, need(config.string_attribute));
    case 'rate_limiting':
      return rateLimiting(name, need(config.rate_limiting), share, clock);
    case 'bytes_limiting':
      return bytesLimiting(name, need(config.bytes_limiting), share, clock);
    case 'span_count':
      return spanCount(name, need(config.span_count));
    case 'trace_state':
      return traceState(name, need(config.trace_state));
    case 'trace_flags':
      return traceFlags(name);
    case 'boolean_attribute':
      return booleanAttribute(name, need(config.boolean_attribute));
    case 'and':
      return and(name, need(config.and).and_sub_policy.map(sub));
    case 'not':
      return not(name, sub(need(config.not).not_sub_policy));
    case 'drop':
      return drop(name, need(config.drop).drop_sub_policy.map(sub));
    case 'composite': {
      const settings = need(config.composite);
      return composite(name, settings, settings.composite_sub_policy.map(sub), share, clock);
    }
    case 'ottl_condition':
      throw new Error(`policy "${name}": ottl_condition is not supported`);
  }
}

/**
 * Whether a policy reads spans (their attributes, flags or tracestate) rather than only the trace's
 * facts (trace-facts.ts): a trace held as beacons is read into spans before such a policy decides it.
 */
export function readsSpans(config: PolicyConfig): boolean {
  switch (config.type) {
    case 'always_sample':
    case 'latency':
    case 'probabilistic':
    case 'status_code':
    case 'rate_limiting':
    case 'bytes_limiting':
    case 'span_count':
      return false;
    case 'and':
      return config.and?.and_sub_policy.some(readsSpans) ?? false;
    case 'not':
      return config.not ? readsSpans(config.not.not_sub_policy) : false;
    case 'drop':
      return config.drop?.drop_sub_policy.some(readsSpans) ?? false;
    case 'composite':
      return config.composite?.composite_sub_policy.some(readsSpans) ?? false;
    case 'string_attribute':
    case 'numeric_attribute':
    case 'boolean_attribute':
    case 'trace_state':
    case 'trace_flags':
    case 'ottl_condition':
      return true;
  }
}

export type Outcome = 'sampled' | 'not_sampled' | 'dropped';

/** The decision on a whole trace. */
export interface Verdict {
  readonly outcome: Outcome;
  /** The policy that kept or dropped the trace (the first one, when several sampled it). */
  readonly policy: string | undefined;
  /** Consistent-probability threshold the trace was kept at; undefined when it was kept for certain. */
  readonly threshold: bigint | undefined;
}

/**
 * All top-level policies of a config, combined as the Collector does today: drop policies are evaluated
 * first and a drop wins; otherwise the trace is kept when any policy samples it (the first one only,
 * with sample_on_first_match). invert_match is an ordinary match; it no longer vetoes other policies.
 */
export class PolicySet {
  readonly #drops: { index: number; policy: Policy }[] = [];
  readonly #others: { index: number; policy: Policy }[] = [];
  readonly #firstMatch: boolean;
  /** Whether any policy reads spans (readsSpans), so that held beacons must be read before a decision. */
  readonly readsSpans: boolean;

  constructor(config: TailSamplingConfig, share: number, clock: Clock) {
    this.#firstMatch = config.sample_on_first_match;
    this.readsSpans = config.policies.some(readsSpans);
    for (const [index, policyConfig] of config.policies.entries()) {
      const entry = { index, policy: buildPolicy(policyConfig, share, clock) };
      (policyConfig.type === 'drop' ? this.#drops : this.#others).push(entry);
    }
  }

  /** Decides a trace; `record` is told each top-level policy's outcome (by index in the config). */
  evaluate(trace: Trace, record: (index: number, outcome: Outcome) => void = () => {}): Verdict {
    for (const { index, policy } of this.#drops) {
      const { kind } = policy.evaluate(trace);
      record(index, kind);
      if (kind === 'dropped') return { outcome: 'dropped', policy: policy.name, threshold: undefined };
    }
    let keptBy: string | undefined;
    let certain = false;
    let threshold: bigint | undefined;
    for (const { index, policy } of this.#others) {
      const decision = policy.evaluate(trace);
      record(index, decision.kind);
      if (decision.kind !== 'sampled') continue;
      keptBy ??= policy.name;
      // Kept at the least strict of the probabilities that sampled it, or for certain by any other policy.
      if (decision.threshold === undefined) certain = true;
      else if (threshold === undefined || decision.threshold < threshold) threshold = decision.threshold;
      if (this.#firstMatch) break;
    }
    if (keptBy === undefined) return { outcome: 'not_sampled', policy: undefined, threshold: undefined };
    return { outcome: 'sampled', policy: keptBy, threshold: certain ? undefined : threshold };
  }
}
