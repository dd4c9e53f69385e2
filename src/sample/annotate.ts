import type { SpanRecord } from '../model/span.ts';
import type { Keep } from './decision-cache.ts';
import { adjustedCount, otValue, parseThresholdHex, thresholdHex } from './probability.ts';

/** Attribute with the policy that kept the trace (the Collector's recordpolicy feature gate uses this name). */
export const POLICY_ATTRIBUTE = 'tailsampling.policy';
/** Attribute with the number of traces a kept trace stands for (1 / sampling probability). */
export const ADJUSTED_COUNT_ATTRIBUTE = 'sampling.adjusted_count';

/** Sets `th` in the tracestate's `ot` member (moved to the front, as W3C asks of a modified member). */
export function withThreshold(traceState: string, threshold: bigint): string {
  const members = traceState ? traceState.split(',').map((m) => m.trim()) : [];
  const index = members.findIndex((m) => m.startsWith('ot='));
  const fields = index < 0 ? [] : (members[index] as string).slice(3).split(';');
  const rest = fields.filter((f) => f && !f.startsWith('th:'));
  if (index >= 0) members.splice(index, 1);
  return [`ot=${[`th:${thresholdHex(threshold)}`, ...rest].join(';')}`, ...members].join(',');
}

/**
 * Marks kept spans: the consistent-probability threshold and adjusted count when the trace was kept at a
 * probability (the stricter of ours and one already in the tracestate, as both samplers applied), and the
 * keeping policy when record_policy is on.
 */
export function annotate(records: readonly SpanRecord[], keep: Keep, recordPolicy: boolean): void {
  // Spans of a trace nearly always share one tracestate: rewrite it once.
  let from: string | undefined;
  let to = '';
  let count = 0;
  for (const { span } of records) {
    if (keep.threshold !== undefined) {
      if (span.traceState !== from) {
        from = span.traceState;
        const earlier = parseThresholdHex(otValue(from, 'th')) ?? 0n;
        const threshold = earlier > keep.threshold ? earlier : keep.threshold;
        to = withThreshold(from, threshold);
        count = adjustedCount(threshold);
      }
      span.traceState = to;
      span.attributes.push({ key: ADJUSTED_COUNT_ATTRIBUTE, value: { type: 'double', value: count } });
    }
    if (recordPolicy && keep.policy !== undefined) {
      span.attributes.push({ key: POLICY_ATTRIBUTE, value: { type: 'string', value: keep.policy } });
    }
  }
}
