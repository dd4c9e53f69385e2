import { traceStateValue } from './trace-state.ts';

// Consistent probability sampling (OpenTelemetry specification, "TraceState: Probability Sampling"):
// a trace is kept when its 56-bit randomness R is at least the rejection threshold T, with
// T = (1 - p) * 2^56. Every sampler that uses the same R agrees on which traces a probability keeps.

export const MAX_THRESHOLD = 1n << 56n;
const RANDOMNESS_HEX = 14;

/** T for a percentage: 0 keeps everything, 2^56 nothing. */
export function thresholdOf(percentage: number): bigint {
  if (percentage >= 100) return 0n;
  if (percentage <= 0) return MAX_THRESHOLD;
  return MAX_THRESHOLD - BigInt(Math.round((percentage / 100) * Number(MAX_THRESHOLD)));
}

/** The `ot` sub-key of a tracestate, e.g. `rv` or `th`. */
export function otValue(traceState: string, key: string): string | undefined {
  const ot = traceStateValue(traceState, 'ot');
  for (const field of ot?.split(';') ?? []) {
    if (field.startsWith(`${key}:`)) return field.slice(key.length + 1);
  }
  return undefined;
}

/** R of a trace: the explicit `ot=rv:` value when present, else the last 56 bits of the trace id. */
export function randomnessOf(traceId: string, traceState: string): bigint {
  const rv = otValue(traceState, 'rv');
  if (rv && /^[0-9a-f]{14}$/.test(rv)) return BigInt(`0x${rv}`);
  return BigInt(`0x${traceId.slice(-RANDOMNESS_HEX)}`);
}

/** A threshold as the `th` value: 14 hex digits with trailing zeros removed (`0` for always). */
export function thresholdHex(threshold: bigint): string {
  return threshold.toString(16).padStart(RANDOMNESS_HEX, '0').replace(/0+$/, '') || '0';
}

export function parseThresholdHex(hex: string | undefined): bigint | undefined {
  if (!hex || !/^[0-9a-f]{1,14}$/.test(hex)) return undefined;
  return BigInt(`0x${hex.padEnd(RANDOMNESS_HEX, '0')}`);
}

/** How many traces in the population a kept trace stands for: 1 / p. */
export const adjustedCount = (threshold: bigint): number =>
  Number(MAX_THRESHOLD) / Number(MAX_THRESHOLD - threshold);

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = (1n << 64n) - 1n;

/** 56 bits of FNV-1a over salt and trace id bytes: the Collector's salted hash, for hash_salt. */
export function saltedRandomness(traceId: string, salt: string): bigint {
  let hash = FNV_OFFSET;
  const bytes = [...Buffer.from(salt, 'utf8'), ...Buffer.from(traceId, 'hex')];
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK_64;
  return hash & (MAX_THRESHOLD - 1n);
}
