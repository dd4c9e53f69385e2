import { type Clock, NOT_SAMPLED, type Policy, SAMPLED } from './policy.ts';
import type { CompositeConfig } from './schema.ts';

interface Slot {
  readonly policy: Policy;
  /** Spans per second this sub-policy may keep. */
  readonly budget: number;
  used: number;
}

/**
 * Sub-policies in policy_order, each with a share (rate_allocation percent) of max_total_spans_per_second
 * in each one-second window. The first sub-policy that samples the trace and still has room in its
 * share and in the total keeps it. Sub-policies without an allocation may use what is left of the total.
 * `share` is this shard's part of the limit.
 */
export function composite(
  name: string,
  config: CompositeConfig,
  subs: readonly Policy[],
  share: number,
  clock: Clock,
): Policy {
  const total = config.max_total_spans_per_second * share;
  const percent = new Map(config.rate_allocation.map((a) => [a.policy, a.percent]));
  const rank = (p: Policy) => {
    const index = config.policy_order.indexOf(p.name);
    return index < 0 ? config.policy_order.length : index;
  };
  const slots: Slot[] = [...subs]
    .sort((a, b) => rank(a) - rank(b))
    .map((policy) => {
      const p = percent.get(policy.name);
      return { policy, budget: p === undefined ? total : (total * p) / 100, used: 0 };
    });
  let second = Math.floor(clock() / 1000);
  let usedTotal = 0;
  return {
    name,
    evaluate(trace) {
      const now = Math.floor(clock() / 1000);
      if (now !== second) {
        second = now;
        usedTotal = 0;
        for (const slot of slots) slot.used = 0;
      }
      const { spans } = trace.facts;
      for (const slot of slots) {
        if (slot.policy.evaluate(trace).kind !== 'sampled') continue;
        if (slot.used + spans <= slot.budget && usedTotal + spans <= total) {
          slot.used += spans;
          usedTotal += spans;
          return SAMPLED;
        }
      }
      return NOT_SAMPLED;
    },
  };
}
