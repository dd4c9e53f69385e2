import type { JudgeConfig } from '../health/config.ts';
import { ERRORS, FIRST_BUCKET, REQUESTS } from '../health/snapshot.ts';
import { addValues, CLIENT, type Counts, countsAt, SERVER, type Window } from './history.ts';
import { bucketQuantile, mannWhitney, type TestResult, tailSplit, twoProportion } from './stats.ts';
import type { JudgedMetric, MetricComparison, SampleSummary } from './verdict.ts';

/** The PoP value of a comparison over all PoPs together. */
export const ALL_POPS = '*';

/** Sums windows into one set of counts per PoP, plus ALL_POPS. */
export function sumWindows(windows: readonly Window[], stride: number): Counts {
  const sum: Counts = new Map();
  const all = countsAt(sum, ALL_POPS, stride);
  for (const window of windows) {
    for (const [pop, kinds] of window.counts) {
      const into = countsAt(sum, pop, stride);
      for (const kind of [SERVER, CLIENT]) {
        addValues(into[kind] as Float64Array, kinds[kind] as Float64Array);
        addValues(all[kind] as Float64Array, kinds[kind] as Float64Array);
      }
    }
  }
  return sum;
}

export interface Compared {
  comparisons: MetricComparison[];
  /**
   * Whether some comparison is worse by the minimum effect and significant at its level before the
   * correction for repeated looks (alpha split over this look's comparisons only).
   */
  suspect: boolean;
}

interface Raw extends Omit<MetricComparison, 'level' | 'regressed'> {
  family: 'all' | 'pop';
}

type Spec = { metric: JudgedMetric; kind: number; test: MetricComparison['test'] };
const SPECS: readonly Spec[] = [
  { metric: 'error_rate', kind: SERVER, test: 'fisher_exact' },
  { metric: 'server_latency', kind: SERVER, test: 'mann_whitney_u' },
  { metric: 'server_latency', kind: SERVER, test: 'tail_exceedance_fisher' },
  { metric: 'origin_latency', kind: CLIENT, test: 'mann_whitney_u' },
  { metric: 'origin_latency', kind: CLIENT, test: 'tail_exceedance_fisher' },
];

const relativeIncrease = (baseline: number | undefined, candidate: number | undefined): number =>
  baseline !== undefined && candidate !== undefined && baseline > 0 ? candidate / baseline - 1 : 0;

/**
 * Compares a candidate's counts with its baseline's, over all PoPs and at each PoP both served (the
 * `max_pops` with most candidate traffic): error rate, and server and origin latency, each by its tests.
 *
 * The levels make the family of tests of one look hold alpha / max_looks (Bonferroni): half for the tests
 * over all PoPs and half split among the PoPs' tests, or all of it over all PoPs when no single PoP is
 * tested (one PoP alone is the same data as all PoPs). Only tested comparisons take a share.
 */
export class Comparer {
  readonly #config: JudgeConfig;
  /** Finite bucket bounds in seconds. */
  readonly #bounds: readonly number[];

  constructor(config: JudgeConfig, bucketsMs: readonly number[]) {
    this.#config = config;
    this.#bounds = bucketsMs.map((ms) => ms / 1000);
  }

  compare(baseline: Counts, candidate: Counts): Compared {
    const lookAlpha = this.#config.alpha / this.#config.max_looks;
    const raw: Raw[] = [];
    for (const pop of [ALL_POPS, ...this.#pops(baseline, candidate)]) {
      const b = baseline.get(pop);
      const c = candidate.get(pop);
      if (!b || !c) continue;
      for (const spec of SPECS)
        raw.push(this.#test(spec, pop, b[spec.kind] as Float64Array, c[spec.kind] as Float64Array));
    }
    const testedAll = raw.filter((r) => r.tested && r.family === 'all').length;
    const testedPops = raw.filter((r) => r.tested && r.family === 'pop').length;
    const shareAll = testedPops > 0 ? lookAlpha / 2 : lookAlpha;
    let suspect = false;
    const comparisons = raw
      .filter((r) => r.family === 'all' || r.tested)
      .map(({ family, ...r }): MetricComparison => {
        if (!r.tested) return { ...r, regressed: false };
        const level = family === 'all' ? shareAll / testedAll : lookAlpha / 2 / testedPops;
        const large = r.effect >= r.threshold;
        if (large && (r.p_value as number) < level * this.#config.max_looks) suspect = true;
        return { ...r, level, regressed: large && (r.p_value as number) < level };
      });
    return { comparisons, suspect };
  }

  /** PoPs both versions served, by candidate server requests, at most max_pops; none if only one PoP. */
  #pops(baseline: Counts, candidate: Counts): string[] {
    if (baseline.size <= 2 && candidate.size <= 2) return [];
    const served = (counts: Counts, pop: string) => counts.get(pop)?.[SERVER][REQUESTS] ?? 0;
    return [...candidate.keys()]
      .filter((pop) => pop !== ALL_POPS && baseline.has(pop))
      .sort((a, b) => served(candidate, b) - served(candidate, a))
      .slice(0, this.#config.max_pops);
  }

  #test(spec: Spec, pop: string, b: Float64Array, c: Float64Array): Raw {
    const config = this.#config;
    const baseline = this.#summary(b);
    const candidate = this.#summary(c);
    const tested = baseline.requests >= config.min_requests && candidate.requests >= config.min_requests;
    const family = pop === ALL_POPS ? 'all' : 'pop';
    const common = {
      metric: spec.metric,
      pop,
      baseline,
      candidate,
      test: spec.test,
      tested,
      family,
    } as const;
    let result: TestResult | undefined;
    let effect: number;
    let threshold = config.min_latency_increase;
    const bx = b.subarray(FIRST_BUCKET);
    const cy = c.subarray(FIRST_BUCKET);
    if (spec.test === 'fisher_exact') {
      threshold = config.min_error_rate_increase;
      effect = candidate.errorRate - baseline.errorRate;
      if (tested)
        result = twoProportion(baseline.errors, baseline.requests, candidate.errors, candidate.requests);
    } else if (spec.test === 'mann_whitney_u') {
      effect = relativeIncrease(baseline.p50, candidate.p50);
      if (tested) result = mannWhitney(bx, cy);
    } else {
      effect = relativeIncrease(baseline.tail, candidate.tail);
      if (tested) {
        const split = tailSplit(this.#bounds, bx, cy, config.latency_quantile);
        result = twoProportion(split.above1, split.n1, split.above2, split.n2);
      }
    }
    return { ...common, effect, threshold, ...(result ? { statistic: result.z, p_value: result.p } : {}) };
  }

  #summary(values: Float64Array): SampleSummary {
    const requests = values[REQUESTS] as number;
    const errors = values[ERRORS] as number;
    const buckets = values.subarray(FIRST_BUCKET);
    return {
      requests,
      errors,
      errorRate: requests > 0 ? errors / requests : 0,
      p50: bucketQuantile(this.#bounds, buckets, 0.5),
      p95: bucketQuantile(this.#bounds, buckets, 0.95),
      tail: bucketQuantile(this.#bounds, buckets, this.#config.latency_quantile),
    };
  }
}
