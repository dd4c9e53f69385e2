import { describe, expect, it } from 'vitest';
import { ACTIVATION, BASELINE, type Behaviour, simulate } from '../../test/support/judge-simulation.ts';
import { versionHealthConfig } from '../../test/support/version-health.ts';

// The judge through full activations: 1,000 server requests a minute at three PoPs, the candidate's share
// growing from 0 to 100% over 10 minutes, a look at the end of each of 30 minutes; the default judge
// config (min_requests 300, alpha 0.01 over 60 looks). Seeded: every number below is reproducible, and
// docs/version-health.md ("Detection") quotes them.

const config = versionHealthConfig({ judge: {} });
const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);

/** Candidate server requests served until `regressed`, per seed (-1: never). */
function requestsToVerdict(candidate: Behaviour, activation = ACTIVATION, judged = config): number[] {
  return SEEDS.map((seed) => simulate(judged, seed, candidate, activation).regressed?.requestsServed ?? -1);
}

function report(name: string, served: number[]): void {
  const sorted = [...served].sort((a, b) => a - b);
  console.info(
    `${name}: regressed after ${sorted[0]}–${sorted.at(-1)} candidate requests (median ${sorted[10]})`,
  );
}

describe('version judge simulation', () => {
  it.each([
    ['+5 points of errors (1% → 6%)', 1000, { ...BASELINE, errorRate: 0.06 }],
    ['+40% latency (p50 and p95)', 1000, { ...BASELINE, serverMedianMs: BASELINE.serverMedianMs * 1.4 }],
    ['+40% p95 from a slow tail (p50 +9%)', 2000, { ...BASELINE, slow: { share: 0.106, factor: 3 } }],
    ['+40% origin latency', 1000, { ...BASELINE, originMedianMs: BASELINE.originMedianMs * 1.4 }],
  ])(
    'judges a candidate with %s regressed within %d of its requests, in every seed',
    (name, bound, candidate) => {
      const served = requestsToVerdict(candidate);
      report(name, served);
      for (const n of served) {
        expect(n).toBeGreaterThan(0);
        expect(n).toBeLessThanOrEqual(bound);
      }
    },
  );

  it('says why, with the numbers, side by side during the activation', () => {
    const run = simulate(config, 1, { ...BASELINE, errorRate: 0.06 });
    const verdict = run.regressed?.verdict;
    expect(verdict).toMatchObject({
      state: 'regressed',
      mode: 'side_by_side',
      candidate: '1.5.0',
      baseline: '1.4.2',
    });
    const decisive = verdict?.comparisons[0];
    expect(decisive).toMatchObject({ metric: 'error_rate', test: 'fisher_exact', regressed: true });
    expect(decisive?.p_value).toBeLessThan(decisive?.level as number);
    expect(verdict?.reason).toMatch(/^regressed: error rate .* points .*side by side/);
  });

  it('needs few requests when SREs allow small samples (min_requests 30, 200 requests a minute)', () => {
    const small = versionHealthConfig({ judge: { min_requests: 30 } });
    const slow = { ...ACTIVATION, perMinute: 200 };
    const errors = requestsToVerdict({ ...BASELINE, errorRate: 0.06 }, slow, small);
    const latency = requestsToVerdict(
      { ...BASELINE, serverMedianMs: BASELINE.serverMedianMs * 1.4 },
      slow,
      small,
    );
    report('small samples, +5 points of errors', errors);
    report('small samples, +40% latency', latency);
    expect(Math.min(...errors, ...latency)).toBeGreaterThan(0);
    expect(Math.max(...errors)).toBeLessThanOrEqual(1500);
    expect(Math.max(...latency)).toBeLessThanOrEqual(300);
  });

  // Bonferroni bounds the chance of a false `regressed` per candidate by alpha (0.01); the exact tests
  // and the minimum effects make it far lower. 200 runs with a true rate of 1% would see 2 on average.
  it.each([
    ['the default config', config, ACTIVATION],
    [
      'min_requests 30 at 200 requests a minute',
      versionHealthConfig({ judge: { min_requests: 30 } }),
      { ...ACTIVATION, perMinute: 200 },
    ],
  ])(
    'judges an A/A candidate regressed in fewer than 2 of 200 seeded runs, with %s',
    (name, judged, activation) => {
      let regressed = 0;
      let suspect = 0;
      for (let seed = 10_001; seed <= 10_200; seed++) {
        const run = simulate(judged, seed, BASELINE, activation);
        if (run.regressed) regressed++;
        if (run.suspect) suspect++;
        if (!run.regressed) expect(run.final?.state).toMatch(/healthy|suspect/);
      }
      console.info(`A/A, ${name}: regressed in ${regressed} of 200 runs, suspect at some look in ${suspect}`);
      expect(regressed).toBeLessThan(2);
    },
  );
});
