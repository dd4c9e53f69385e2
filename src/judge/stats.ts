// The tests the judge applies, on counts rather than raw values: the relay keeps request and error
// counters and bucketed durations, never individual spans. Counts may be fractional (edge-sampled spans
// count their adjusted count); the formulas take them as they are. Method: docs/version-health.md, "Detection".

export interface TestResult {
  /** Standard normal under the null; positive when the candidate is worse. */
  z: number;
  /** One-sided upper tail: P(Z ≥ z). */
  p: number;
}

const NO_EVIDENCE: TestResult = { z: 0, p: 1 };

/**
 * erfc(x) for x ≥ 0 with a relative error below 1.2e-7 everywhere (Numerical Recipes' Chebyshev fit):
 * the levels compared against are as small as 1e-6, where 1 − erf loses every digit.
 */
function erfc(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -x * x -
    1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * Math.exp(poly);
}

/** P(Z ≥ z) for a standard normal Z. */
export function upperTail(z: number): number {
  if (Number.isNaN(z)) return 1;
  const tail = 0.5 * erfc(Math.abs(z) / Math.SQRT2);
  return z >= 0 ? tail : 1 - tail;
}

/** ln Γ(x) for x > 0: Lanczos' approximation (g = 7, 9 terms), relative error about 1e-15. */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let a = LANCZOS[0] as number;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += (LANCZOS[i] as number) / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}
const logChoose = (n: number, k: number): number => logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);

/**
 * One-sided comparison of two proportions: is the candidate's rate (k2 / n2) higher than the
 * baseline's (k1 / n1)? The p-value is Fisher's exact test (the hypergeometric tail of the candidate's
 * share of all k1 + k2 events, given the totals), because errors and tail exceedances are rare events
 * and the normal approximation is far too confident with a handful of them: 0 errors of 450 against 2
 * of 43 gives z = 4.6 (p ≈ 2e-6), while the exact p is 0.008. `z` is the pooled z statistic, for
 * reading. Counts are rounded to whole requests. No events, or nothing else, on both sides is no evidence.
 */
export function twoProportion(k1: number, n1: number, k2: number, n2: number): TestResult {
  const a = Math.round(k1);
  const b = Math.round(k2);
  const m1 = Math.round(n1);
  const m2 = Math.round(n2);
  const events = a + b;
  const total = m1 + m2;
  if (m1 <= 0 || m2 <= 0 || events === 0 || events === total) return NO_EVIDENCE;
  const pooled = events / total;
  const z = (b / m2 - a / m1) / Math.sqrt(pooled * (1 - pooled) * (1 / m1 + 1 / m2));
  return { z, p: hypergeometricUpper(total, events, m2, b) };
}

/** P(X ≥ k) for X ~ Hypergeometric(population, successes, draws), summed from k away from the mode. */
function hypergeometricUpper(population: number, successes: number, draws: number, k: number): number {
  const high = Math.min(successes, draws);
  const low = Math.max(0, draws - (population - successes));
  if (k <= low) return 1;
  if (k > high) return 0;
  const others = population - successes;
  const logBase = -logChoose(population, draws);
  const at = (x: number) => Math.exp(logChoose(successes, x) + logChoose(others, draws - x) + logBase);
  const mode = Math.floor(((draws + 1) * (successes + 1)) / (population + 2));
  // Sum the shorter, decreasing side: upward from k above the mode, else the lower tail below k.
  const upward = k > mode;
  let x = upward ? k : k - 1;
  let term = at(x);
  let sum = 0;
  while (term > 0 && x >= low && x <= high) {
    sum += term;
    if (term < sum * 1e-17) break;
    term *= upward
      ? ((successes - x) * (draws - x)) / ((x + 1) * (others - draws + x + 1))
      : (x * (others - draws + x)) / ((successes - x + 1) * (draws - x + 1));
    x += upward ? 1 : -1;
  }
  return upward ? Math.min(1, sum) : Math.max(0, 1 - sum);
}

/**
 * One-sided Mann-Whitney U over bucketed durations: is the candidate (y) stochastically slower than the
 * baseline (x)? Every value within one bucket is a tie, so U counts half of each same-bucket pair, and
 * the variance takes the tie correction (Σ t³ − t over the buckets), which is large here: a histogram
 * has ~17 distinct values. Normal approximation, without continuity correction (counts may be fractional).
 */
export function mannWhitney(x: ArrayLike<number>, y: ArrayLike<number>): TestResult {
  let n1 = 0;
  let n2 = 0;
  let u = 0;
  let ties = 0;
  for (let b = 0; b < x.length; b++) {
    const xb = x[b] as number;
    const yb = y[b] as number;
    // Pairs with the candidate's value above the baseline's, plus half of the tied ones.
    u += yb * (n1 + xb / 2);
    n1 += xb;
    n2 += yb;
    const t = xb + yb;
    ties += t * t * t - t;
  }
  const n = n1 + n2;
  if (n1 <= 0 || n2 <= 0 || n < 2) return NO_EVIDENCE;
  const variance = ((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1)));
  if (!(variance > 0)) return NO_EVIDENCE;
  const z = (u - (n1 * n2) / 2) / Math.sqrt(variance);
  return { z, p: upperTail(z) };
}

/**
 * The q-quantile of bucketed durations, interpolated linearly within its bucket as Prometheus'
 * histogram_quantile does (the first bucket from 0). In the +Inf bucket it is the last finite bound: a
 * lower bound of the truth. `bounds` are the finite upper bounds; `counts` has one more entry (+Inf).
 */
export function bucketQuantile(
  bounds: readonly number[],
  counts: ArrayLike<number>,
  q: number,
): number | undefined {
  let total = 0;
  for (let b = 0; b < counts.length; b++) total += counts[b] as number;
  if (!(total > 0)) return undefined;
  const rank = q * total;
  let below = 0;
  for (let b = 0; b < bounds.length; b++) {
    const count = counts[b] as number;
    if (below + count >= rank && count > 0) {
      const lower = b === 0 ? 0 : (bounds[b - 1] as number);
      return lower + ((bounds[b] as number) - lower) * ((rank - below) / count);
    }
    below += count;
  }
  return bounds[bounds.length - 1];
}

/**
 * The counts above the finite bound whose pooled share below it is nearest to q, per side: the tail
 * that the exceedance test compares. The bound depends only on the pooled counts, which the null (both
 * versions alike) leaves exchangeable between the sides, so choosing it from the data does not bias it.
 */
export function tailSplit(
  bounds: readonly number[],
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  q: number,
): { above1: number; n1: number; above2: number; n2: number; bound: number } {
  let n1 = 0;
  let n2 = 0;
  for (let b = 0; b < x.length; b++) {
    n1 += x[b] as number;
    n2 += y[b] as number;
  }
  let cut = 0;
  let best = Number.POSITIVE_INFINITY;
  let below = 0;
  for (let b = 0; b < bounds.length; b++) {
    below += (x[b] as number) + (y[b] as number);
    const distance = Math.abs(below / (n1 + n2) - q);
    if (distance < best) {
      best = distance;
      cut = b;
    }
  }
  let above1 = 0;
  let above2 = 0;
  for (let b = cut + 1; b < x.length; b++) {
    above1 += x[b] as number;
    above2 += y[b] as number;
  }
  return { above1, n1, above2, n2, bound: bounds[cut] as number };
}
