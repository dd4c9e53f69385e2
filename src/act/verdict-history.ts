import type { JudgedMetric, SampleSummary, Verdict, VerdictSource } from '../judge/verdict.ts';

// A verdict is the judge's present view; the /versions page also shows how the two versions moved
// while the candidate rolled out. So the verdicts' headline numbers (all PoPs) are sampled at an
// interval and on every change, into a bounded series per (worker id, candidate).

/** One version's headline numbers at a moment; undefined where the judge had nothing yet. */
export interface SideFigures {
  errorRate: number | undefined;
  p50: number | undefined;
  p95: number | undefined;
}

export interface HistoryPoint {
  time: number;
  baseline: SideFigures;
  candidate: SideFigures;
}

/** Points per pair: at the default 10 s interval, the last hour. */
const POINTS = 360;
/** Pairs kept; the one sampled longest ago goes first. */
const PAIRS = 64;

const overall = (verdict: Verdict, metric: JudgedMetric) =>
  verdict.comparisons.find((c) => c.metric === metric && c.pop === '*');

function figures(errors: SampleSummary | undefined, latency: SampleSummary | undefined): SideFigures {
  return { errorRate: errors?.errorRate, p50: latency?.p50, p95: latency?.p95 };
}

export const pairKey = (verdict: Pick<Verdict, 'workerId' | 'candidate'>): string =>
  `${verdict.workerId}\u0000${verdict.candidate}`;

export class VerdictHistory {
  readonly #series = new Map<string, HistoryPoint[]>();
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Samples every verdict of `source` each `interval` ms until {@link stop}. */
  start(source: VerdictSource, interval: number): void {
    this.#timer = setInterval(() => {
      for (const verdict of source.verdicts()) this.add(verdict);
    }, interval);
    this.#timer.unref();
  }

  add(verdict: Verdict): void {
    const errors = overall(verdict, 'error_rate');
    const latency = overall(verdict, 'server_latency');
    const key = pairKey(verdict);
    const series = this.#series.get(key) ?? [];
    // Re-inserted so that the map's order is "least recently sampled first", which is what goes first.
    this.#series.delete(key);
    this.#series.set(key, series);
    series.push({
      time: this.#now(),
      baseline: figures(errors?.baseline, latency?.baseline),
      candidate: figures(errors?.candidate, latency?.candidate),
    });
    if (series.length > POINTS) series.splice(0, series.length - POINTS);
    if (this.#series.size > PAIRS) this.#series.delete(this.#series.keys().next().value as string);
  }

  of(verdict: Pick<Verdict, 'workerId' | 'candidate'>): readonly HistoryPoint[] {
    return this.#series.get(pairKey(verdict)) ?? [];
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
