import type { VersionHealthConfig } from '../../src/health/config.ts';
import type { MergedSeries } from '../../src/health/merged-health.ts';
import { ERRORS, FIRST_BUCKET, REQUESTS, SUM, valuesPerSeries } from '../../src/health/snapshot.ts';
import type { Verdict } from '../../src/judge/verdict.ts';
import { VersionJudge } from '../../src/judge/version-judge.ts';
import { NO_AUDIT } from '../../src/telemetry/audit-log.ts';
import { normal, type Random, seeded } from './random.ts';

// A version judge driven with synthetic merged aggregates and a simulated clock: one EdgeWorker id whose
// candidate version takes over from the baseline, minute by minute, as an activation propagates.

/** How one version behaves: server span error rate and lognormal durations (median in ms, log-sd). */
export interface Behaviour {
  errorRate: number;
  serverMedianMs: number;
  serverSigma: number;
  originMedianMs: number;
  originSigma: number;
  /** A slow share of server requests, `factor` times slower: a regression of the tail only. */
  slow?: { share: number; factor: number };
}

export const BASELINE: Behaviour = {
  errorRate: 0.01,
  serverMedianMs: 60,
  serverSigma: 0.6,
  originMedianMs: 30,
  originSigma: 0.7,
};

export interface Activation {
  /** Server requests per simulated minute, over all PoPs. */
  perMinute: number;
  /** Minutes until the candidate serves everything (its share grows linearly from 0). */
  rampMinutes: number;
  minutes: number;
  pops: readonly { pop: string; share: number }[];
}

export const ACTIVATION: Activation = {
  perMinute: 1000,
  rampMinutes: 10,
  minutes: 30,
  pops: [
    { pop: 'FRA', share: 0.5 },
    { pop: 'AMS', share: 0.3 },
    { pop: 'LHR', share: 0.2 },
  ],
};

const KINDS = ['SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT'] as const;
const MINUTE = 60_000;

/** Merged series as MergedHealth keeps them, written to directly (worker id 42817 unless given). */
export class SyntheticMerged {
  readonly series: MergedSeries[] = [];
  readonly #byKey = new Map<string, MergedSeries>();
  readonly #bounds: readonly number[];
  readonly #stride: number;

  constructor(bucketsMs: readonly number[]) {
    this.#bounds = bucketsMs;
    this.#stride = valuesPerSeries(bucketsMs.length);
  }

  add(version: string, pop: string, kind: 0 | 1, ms: number, error: boolean, workerId = '42817'): void {
    const key = `${workerId}|${version}|${pop}|${kind}`;
    let s = this.#byKey.get(key);
    if (!s) {
      const name = kind === 0 ? 'GET /product/:id' : 'origin GET';
      s = {
        labels: [workerId, version, pop, name, KINDS[kind]],
        overflow: false,
        values: new Float64Array(this.#stride),
        exemplars: [],
        errorExemplar: undefined,
        expo: undefined,
      };
      this.#byKey.set(key, s);
      this.series.push(s);
    }
    const v = s.values;
    v[REQUESTS] = (v[REQUESTS] as number) + 1;
    if (error) v[ERRORS] = (v[ERRORS] as number) + 1;
    v[SUM] = (v[SUM] as number) + ms / 1000;
    let bucket = 0;
    while (bucket < this.#bounds.length && ms > (this.#bounds[bucket] as number)) bucket++;
    v[FIRST_BUCKET + bucket] = (v[FIRST_BUCKET + bucket] as number) + 1;
  }
}

/** One server duration in ms. */
export function serverMs(random: Random, b: Behaviour): number {
  const ms = b.serverMedianMs * Math.exp(b.serverSigma * normal(random));
  return b.slow && random() < b.slow.share ? ms * b.slow.factor : ms;
}

function request(merged: SyntheticMerged, random: Random, version: string, pop: string, b: Behaviour): void {
  merged.add(version, pop, 0, serverMs(random, b), random() < b.errorRate);
  merged.add(version, pop, 1, b.originMedianMs * Math.exp(b.originSigma * normal(random)), false);
}

/** The PoP whose share of traffic `r` (uniform in [0, 1)) falls in. */
function popOf(activation: Activation, r: number): string {
  let below = 0;
  for (const { pop, share } of activation.pops) {
    below += share;
    if (r < below) return pop;
  }
  return activation.pops.at(-1)?.pop as string;
}

export interface RunResult {
  /** The first regressed verdict, if any, and the candidate's server requests until then (all it served). */
  regressed: { minute: number; requestsServed: number; verdict: Verdict } | undefined;
  /** Whether any look said suspect. */
  suspect: boolean;
  final: Verdict | undefined;
}

/** Runs one activation of `candidate` over `baseline` (seeded), a look at the end of each minute. */
export function simulate(
  config: VersionHealthConfig,
  seed: number,
  candidate: Behaviour,
  activation: Activation = ACTIVATION,
  baseline: Behaviour = BASELINE,
): RunResult {
  const random = seeded(seed);
  const merged = new SyntheticMerged(config.histogram.explicit.buckets as number[]);
  const judge = new VersionJudge(config, { audit: NO_AUDIT });
  let served = 0;
  let suspect = false;
  const start = 1_764_000_000_000;
  for (let minute = 0; minute < activation.minutes; minute++) {
    const share = Math.min(1, minute / activation.rampMinutes);
    for (let i = 0; i < activation.perMinute; i++) {
      const pop = popOf(activation, random());
      const isCandidate = random() < share;
      if (isCandidate) served++;
      request(merged, random, isCandidate ? '1.5.0' : '1.4.2', pop, isCandidate ? candidate : baseline);
    }
    judge.evaluate(merged.series, start + (minute + 1) * MINUTE);
    const verdict = judge.verdicts()[0];
    if (verdict?.state === 'suspect') suspect = true;
    if (verdict?.state === 'regressed')
      return { regressed: { minute: minute + 1, requestsServed: served, verdict }, suspect, final: verdict };
  }
  return { regressed: undefined, suspect, final: judge.verdicts()[0] };
}
