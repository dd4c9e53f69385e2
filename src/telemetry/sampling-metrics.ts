import type { Registry } from 'prom-client';
import { histogramValues, registerCollected } from './collected-metric.ts';

// Per-policy decision counters and the decision latency histogram, in their own SharedArrayBuffer: policy
// names come from the config (and change on reload), so their layout cannot be fixed like SHARED_METRICS.
// The main thread owns the name → slot table; slots only grow, so a policy keeps its counters across reloads.

export const MAX_POLICY_SLOTS = 64;
const OUTCOMES = ['sampled', 'not_sampled', 'dropped'] as const;
export type PolicyOutcome = (typeof OUTCOMES)[number];
/** Seconds from a trace's first span to its decision. */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const LATENCY_BASE = MAX_POLICY_SLOTS * OUTCOMES.length;
const SLOTS_PER_WORKER = LATENCY_BASE + LATENCY_BUCKETS.length + 2;

export function allocateSamplingMetrics(workers: number): SharedArrayBuffer {
  return new SharedArrayBuffer(workers * SLOTS_PER_WORKER * Float64Array.BYTES_PER_ELEMENT);
}

/** Assigns each top-level policy name a metric slot; the last slot is shared by names beyond the table. */
export class PolicySlots {
  readonly #slots = new Map<string, number>();

  slotsFor(names: readonly string[]): number[] {
    return names.map((name) => {
      let slot = this.#slots.get(name);
      if (slot === undefined) {
        slot = Math.min(this.#slots.size, MAX_POLICY_SLOTS - 1);
        if (slot < MAX_POLICY_SLOTS - 1) this.#slots.set(name, slot);
      }
      return slot;
    });
  }

  labels(): [string, number][] {
    const entries = [...this.#slots.entries()];
    if (this.#slots.size >= MAX_POLICY_SLOTS - 1) entries.push(['_other', MAX_POLICY_SLOTS - 1]);
    return entries;
  }
}

/** One worker's region. */
export class SamplingMetricsWriter {
  readonly #slots: Float64Array;
  constructor(buffer: SharedArrayBuffer, worker: number) {
    this.#slots = new Float64Array(buffer, worker * SLOTS_PER_WORKER * 8, SLOTS_PER_WORKER);
  }
  #add(slot: number, amount: number): void {
    this.#slots[slot] = (this.#slots[slot] as number) + amount;
  }
  decision(slot: number, outcome: PolicyOutcome): void {
    this.#add(slot * OUTCOMES.length + OUTCOMES.indexOf(outcome), 1);
  }
  latency(seconds: number): void {
    let bucket = LATENCY_BUCKETS.findIndex((le) => seconds <= le);
    if (bucket < 0) bucket = LATENCY_BUCKETS.length;
    this.#add(LATENCY_BASE + bucket, 1);
    this.#add(LATENCY_BASE + LATENCY_BUCKETS.length + 1, seconds);
  }
}

function sumOver(slots: Float64Array, slot: number): number {
  let sum = 0;
  for (let at = slot; at < slots.length; at += SLOTS_PER_WORKER) sum += slots[at] as number;
  return sum;
}

/** Exposes edge_relay_sampling_policy_decisions_total and edge_relay_sampling_decision_latency_seconds. */
export function registerSamplingMetrics(
  registry: Registry,
  buffer: SharedArrayBuffer,
  names: PolicySlots,
): void {
  const slots = new Float64Array(buffer);
  registerCollected(
    registry,
    {
      name: 'edge_relay_sampling_policy_decisions_total',
      help: 'Decisions of each top-level tail sampling policy, by outcome',
      type: 'counter',
    },
    () =>
      names.labels().flatMap(([policy, slot]) =>
        OUTCOMES.map((decision, o) => ({
          labels: { policy, decision },
          value: sumOver(slots, slot * OUTCOMES.length + o),
        })),
      ),
  );
  const latency = 'edge_relay_sampling_decision_latency_seconds';
  registerCollected(
    registry,
    {
      name: latency,
      help: "Time from the first span of a trace to its sampling decision (not the Collector's sampling_decision_latency, which times policy evaluation alone)",
      type: 'histogram',
    },
    () =>
      histogramValues(
        latency,
        LATENCY_BUCKETS,
        LATENCY_BUCKETS.map((_, i) => sumOver(slots, LATENCY_BASE + i)).concat(
          sumOver(slots, LATENCY_BASE + LATENCY_BUCKETS.length),
        ),
        sumOver(slots, LATENCY_BASE + LATENCY_BUCKETS.length + 1),
      ),
  );
}
