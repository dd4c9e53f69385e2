import { describe, expect, it } from 'vitest';
import { emptyExpo, expoAdd, expoDifference, expoIndex, expoRecord } from './exponential.ts';

const total = (h: { counts: number[]; zeroCount: number }) =>
  h.counts.reduce((a, b) => a + b, 0) + h.zeroCount;
/** Upper bound of bucket i at scale s. */
const upper = (i: number, scale: number) => 2 ** ((i + 1) / 2 ** scale);

describe('exponential histogram', () => {
  it('maps values to buckets whose bounds hold them, also exact powers of two', () => {
    for (const scale of [-2, 0, 3, 20]) {
      for (const value of [0.001, 0.0417, 1, 2, 8, 1500]) {
        const i = expoIndex(value, scale);
        expect(value).toBeLessThanOrEqual(upper(i, scale) * (1 + 1e-12));
        expect(value).toBeGreaterThan(upper(i - 1, scale) * (1 - 1e-12));
      }
    }
    expect(expoIndex(2, 0)).toBe(0);
    expect(expoIndex(4, 0)).toBe(1);
  });

  it('halves its resolution to stay within max_size buckets, losing no count', () => {
    const h = emptyExpo();
    const values = [0, 0.002, 0.0031, 0.04, 0.5, 1.5, 9, 15];
    for (const v of values) expoRecord(h, v, 1, 8);
    expect(h.counts.length).toBeLessThanOrEqual(8);
    expect(h.scale).toBeLessThan(20);
    expect(total(h)).toBe(values.length);
    expect(h.zeroCount).toBe(1);
    // Every value is in the bucket its index says at the final scale.
    for (const v of values.slice(1)) {
      const at = expoIndex(v, h.scale) - h.offset;
      expect(h.counts[at]).toBeGreaterThan(0);
    }
  });

  it('adds histograms of different scales and takes one state from a later one', () => {
    const a = emptyExpo();
    const b = emptyExpo();
    for (const v of [0.001, 0.002]) expoRecord(a, v, 1, 160);
    for (const v of [0.001, 10]) expoRecord(b, v, 1, 4);
    const sum = emptyExpo();
    expoAdd(sum, a, 160);
    expoAdd(sum, b, 160);
    expect(sum.scale).toBe(Math.min(a.scale, b.scale));
    expect(total(sum)).toBe(4);
    const earlier = structuredClone(a);
    expoRecord(a, 30, 1, 4);
    const difference = expoDifference(a, earlier);
    expect(total(difference)).toBe(1);
    expect(difference.counts[expoIndex(30, difference.scale) - difference.offset]).toBe(1);
  });
});
