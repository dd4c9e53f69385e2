import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  allocateSamplingMetrics,
  MAX_POLICY_SLOTS,
  PolicySlots,
  registerSamplingMetrics,
  SamplingMetricsWriter,
} from './sampling-metrics.ts';

describe('sampling metrics', () => {
  it('keeps a policy name on its slot across reloads and folds names beyond the table into _other', () => {
    const slots = new PolicySlots();
    expect(slots.slotsFor(['errors', 'slow'])).toEqual([0, 1]);
    expect(slots.slotsFor(['slow', 'baseline', 'errors'])).toEqual([1, 2, 0]);
    const many = Array.from({ length: MAX_POLICY_SLOTS + 5 }, (_, i) => `p${i}`);
    expect(Math.max(...slots.slotsFor(many))).toBe(MAX_POLICY_SLOTS - 1);
    expect(slots.labels().at(-1)).toEqual(['_other', MAX_POLICY_SLOTS - 1]);
  });

  it('sums per-policy decisions and the latency histogram over workers', async () => {
    const buffer = allocateSamplingMetrics(2);
    const slots = new PolicySlots();
    const [errors] = slots.slotsFor(['errors']) as [number];
    new SamplingMetricsWriter(buffer, 0).decision(errors, 'sampled');
    new SamplingMetricsWriter(buffer, 1).decision(errors, 'sampled');
    new SamplingMetricsWriter(buffer, 1).latency(0.3);
    const registry = new Registry();
    registerSamplingMetrics(registry, buffer, slots);
    const text = await registry.metrics();
    expect(text).toContain(
      'edge_relay_sampling_policy_decisions_total{policy="errors",decision="sampled"} 2',
    );
    expect(text).toContain('edge_relay_sampling_decision_latency_seconds_bucket{le="0.25"} 0');
    expect(text).toContain('edge_relay_sampling_decision_latency_seconds_bucket{le="0.5"} 1');
    expect(text).toContain('edge_relay_sampling_decision_latency_seconds_bucket{le="+Inf"} 1');
    expect(text).toContain('edge_relay_sampling_decision_latency_seconds_sum 0.3');
  });
});
