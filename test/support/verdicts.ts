import type {
  MetricComparison,
  SampleSummary,
  Verdict,
  VerdictChange,
  VerdictListener,
  VerdictSource,
  VerdictState,
} from '../../src/judge/verdict.ts';

// Synthetic verdicts, as the judge (src/judge/) would report them, to drive the actions and surfaces
// without traffic: what the actions do depends only on the verdicts they are told of.

const side = (requests: number, errorRate: number, p50: number, p95: number): SampleSummary => ({
  requests,
  errors: Math.round(requests * errorRate),
  errorRate,
  p50,
  p95,
  tail: p95,
});

export interface VerdictFigures {
  baselineErrorRate?: number;
  candidateErrorRate?: number;
  baselineP95?: number;
  candidateP95?: number;
  requests?: number;
}

function comparisons(figures: VerdictFigures, state: VerdictState): MetricComparison[] {
  const n = figures.requests ?? 4000;
  const be = figures.baselineErrorRate ?? 0.02;
  const ce = figures.candidateErrorRate ?? (state === 'regressed' ? 0.07 : 0.021);
  const bp = figures.baselineP95 ?? 0.12;
  const cp = figures.candidateP95 ?? 0.125;
  const base = side(n, be, bp / 3, bp);
  const cand = side(n, ce, cp / 3, cp);
  const regressed = state === 'regressed';
  return [
    {
      metric: 'error_rate',
      pop: '*',
      baseline: base,
      candidate: cand,
      test: 'fisher_exact',
      tested: state !== 'collecting',
      statistic: regressed ? 11.2 : 0.3,
      p_value: regressed ? 1.9e-29 : 0.38,
      level: 0.0005,
      effect: ce - be,
      threshold: 0.01,
      regressed,
    },
    {
      metric: 'server_latency',
      pop: '*',
      baseline: base,
      candidate: cand,
      test: 'mann_whitney_u',
      tested: state !== 'collecting',
      statistic: 0.4,
      p_value: 0.34,
      level: 0.0005,
      effect: cp / bp - 1,
      threshold: 0.2,
      regressed: false,
    },
  ];
}

/** A verdict on `candidate` of EdgeWorker `workerId`, with plausible numbers for its state. */
export function verdict(
  state: VerdictState,
  overrides: Partial<Omit<Verdict, 'state'>> & VerdictFigures = {},
): Verdict {
  const { baselineErrorRate, candidateErrorRate, baselineP95, candidateP95, requests, ...rest } = overrides;
  const figures = { baselineErrorRate, candidateErrorRate, baselineP95, candidateP95, requests };
  const now = Date.now();
  return {
    workerId: '42817',
    candidate: '1.4.3',
    baseline: '1.4.2',
    state,
    mode: 'side_by_side',
    reason:
      state === 'regressed'
        ? 'error rate 7.00% against 2.00% over all PoPs, side by side: significant at the corrected level'
        : `the candidate is ${state}`,
    since: now - 60_000,
    evaluatedAt: now,
    firstSeen: now - 600_000,
    looks: 3,
    maxLooks: 20,
    comparisons: comparisons(figures, state),
    requests: { baseline: requests ?? 4000, candidate: requests ?? 4000 },
    ...rest,
  };
}

/** A change to `state` from `previous`, as the judge's listener is told of it. */
export const change = (
  next: Verdict,
  previous: VerdictState | undefined,
  ended?: VerdictChange['ended'],
): VerdictChange => ({ verdict: next, previous, ...(ended ? { ended } : {}) });

/** A VerdictSource whose verdicts a test sets, telling listeners as the judge would. */
export class ManualVerdictSource implements VerdictSource {
  readonly #verdicts = new Map<string, Verdict>();
  readonly #listeners = new Set<VerdictListener>();

  verdicts(): Verdict[] {
    return [...this.#verdicts.values()].sort((a, b) => a.workerId.localeCompare(b.workerId));
  }

  onChange(listener: VerdictListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Sets (or, with `ended`, ends) a pair's verdict and tells the listeners. */
  set(next: Verdict, ended?: VerdictChange['ended']): void {
    const key = `${next.workerId}/${next.candidate}`;
    const previous = this.#verdicts.get(key)?.state;
    if (ended) this.#verdicts.delete(key);
    else this.#verdicts.set(key, next);
    for (const listener of this.#listeners) listener(change(next, previous, ended));
  }
}
