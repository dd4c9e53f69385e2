import { describe, expect, it } from 'vitest';
import { bucketQuantile, mannWhitney, tailSplit, twoProportion, upperTail } from './stats.ts';

// Reference values from SciPy 1.x: scipy.stats.fisher_exact(..., alternative='greater') and
// mannwhitneyu(y, x, alternative='greater', method='asymptotic', use_continuity=False) on the
// buckets expanded to values.

describe('upperTail', () => {
  it('is the standard normal tail, accurate far out', () => {
    expect(upperTail(0)).toBeCloseTo(0.5, 7);
    expect(upperTail(1.959964)).toBeCloseTo(0.025, 6);
    expect(upperTail(-1.959964)).toBeCloseTo(0.975, 6);
    expect(upperTail(4.753424) / 1e-6).toBeCloseTo(1, 3);
  });
});

describe('twoProportion (Fisher exact, one-sided)', () => {
  it.each([
    [0, 450, 2, 43, 0.007445703260278038],
    [5, 100, 15, 100, 0.015860019543155274],
    [15, 100, 5, 100, 0.9959603631907512],
    [1000, 100_000, 1200, 100_000, 9.819753401194035e-6],
    [30_000, 100_000, 30_500, 100_000, 0.007567372702405003],
  ])('%d/%d against %d/%d has SciPy’s p-value', (k1, n1, k2, n2, p) => {
    expect(twoProportion(k1, n1, k2, n2).p / p).toBeCloseTo(1, 8);
  });

  it('reports the pooled z, and no evidence without events', () => {
    expect(twoProportion(5, 100, 15, 100).z).toBeCloseTo(2.357023, 5);
    expect(twoProportion(0, 100, 0, 100)).toEqual({ z: 0, p: 1 });
    expect(twoProportion(100, 100, 100, 100)).toEqual({ z: 0, p: 1 });
  });
});

describe('mannWhitney over buckets', () => {
  it.each([
    [[5, 10, 0, 3, 1], [1, 4, 6, 2, 5], 0.0030765608987864796],
    [[120, 300, 250, 80, 20, 5, 0], [100, 260, 260, 110, 40, 10, 2], 5.886911805373501e-5],
  ])('matches SciPy with ties: %j against %j', (x, y, p) => {
    expect(mannWhitney(x, y).p / p).toBeCloseTo(1, 6);
  });

  it('is symmetric: the faster side has the opposite z', () => {
    const x = [10, 20, 30, 5];
    const y = [5, 25, 30, 10];
    expect(mannWhitney(x, y).z).toBeCloseTo(-mannWhitney(y, x).z, 12);
    expect(mannWhitney(x, x).z).toBe(0);
  });
});

describe('bucketQuantile', () => {
  const bounds = [0.01, 0.1, 1];
  it('interpolates within the bucket, from 0 in the first', () => {
    expect(bucketQuantile(bounds, [10, 10, 0, 0], 0.25)).toBeCloseTo(0.005, 12);
    expect(bucketQuantile(bounds, [10, 10, 0, 0], 0.75)).toBeCloseTo(0.055, 12);
  });
  it('is the last bound in +Inf and undefined without counts', () => {
    expect(bucketQuantile(bounds, [0, 0, 0, 5], 0.5)).toBe(1);
    expect(bucketQuantile(bounds, [0, 0, 0, 0], 0.5)).toBeUndefined();
  });
});

describe('tailSplit', () => {
  it('cuts at the bound whose pooled share below is nearest the quantile', () => {
    // Pooled shares below the bounds: 0.5, 0.9, 0.96: 0.96 is nearest 0.95.
    const split = tailSplit([0.01, 0.1, 1], [25, 20, 3, 2], [25, 20, 3, 2], 0.95);
    expect(split).toEqual({ above1: 2, n1: 50, above2: 2, n2: 50, bound: 1 });
  });
});
