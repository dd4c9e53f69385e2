import { totalmem } from 'node:os';
import { constrainedMemory } from 'node:process';
import type { PolicySlots } from '../telemetry/sampling-metrics.ts';
import type { TailSamplingConfig } from './schema.ts';

/** What a worker shard needs to sample: posted at start and again on each reload. */
export interface SamplingSetup {
  readonly config: TailSamplingConfig;
  /** Worker shards sharing the limits (num_traces, max_buffered_bytes, rate limits). */
  readonly shards: number;
  /** Metric slot of each top-level policy, by index in config.policies. */
  readonly slots: readonly number[];
}

export function samplingSetup(
  config: TailSamplingConfig | undefined,
  shards: number,
  slots: PolicySlots,
): SamplingSetup | undefined {
  return config && { config, shards, slots: slots.slotsFor(config.policies.map((p) => p.name)) };
}

/** A buffered span takes several times its encoded size on the heap, so the default is a small share. */
const DEFAULT_MEMORY_SHARE = 1 / 32;
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

/** One shard's bounds: its part of num_traces and of max_buffered_bytes (or of the default). */
export function shardLimits(setup: SamplingSetup): { traces: number; bytes: number } {
  const memory = constrainedMemory() || totalmem();
  const bytes = setup.config.max_buffered_bytes || Math.min(DEFAULT_MAX_BYTES, memory * DEFAULT_MEMORY_SHARE);
  return {
    traces: Math.max(1, Math.ceil(setup.config.num_traces / setup.shards)),
    bytes: Math.max(1, Math.floor(bytes / setup.shards)),
  };
}
