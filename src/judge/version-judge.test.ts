import { describe, expect, it } from 'vitest';
import { SyntheticMerged } from '../../test/support/judge-simulation.ts';
import { versionHealthConfig } from '../../test/support/version-health.ts';
import type { AuditSink } from '../telemetry/audit-log.ts';
import type { VerdictChange } from './verdict.ts';
import { type EvidenceKey, VersionJudge } from './version-judge.ts';

const MINUTE = 60_000;

interface Traffic {
  requests: number;
  errors?: number;
  ms?: number;
  originMs?: number;
  pop?: string;
  workerId?: string;
}

/** Deterministic traffic of one version: the same durations each time, the errors first. */
function serve(merged: SyntheticMerged, version: string, t: Traffic): void {
  for (let i = 0; i < t.requests; i++) {
    merged.add(version, t.pop ?? 'FRA', 0, (t.ms ?? 50) + (i % 7), i < (t.errors ?? 0), t.workerId);
    merged.add(version, t.pop ?? 'FRA', 1, (t.originMs ?? 20) + (i % 5), false, t.workerId);
  }
}

function setup(judge: Record<string, unknown> = {}) {
  const config = versionHealthConfig({
    judge: { min_requests: 100, evaluation_interval: '1m', window: '5m', max_looks: 10, ...judge },
  });
  const merged = new SyntheticMerged(config.histogram.explicit.buckets as number[]);
  const audited: [string, Record<string, unknown> | undefined][] = [];
  const audit: AuditSink = { record: (event, fields) => audited.push([event, fields]) };
  const evidence: EvidenceKey[][] = [];
  const judgeOf = new VersionJudge(config, { audit, evidence: (keys) => evidence.push(keys) });
  const changes: VerdictChange[] = [];
  judgeOf.onChange((change) => changes.push(change));
  let minute = 0;
  /** Serves each version's traffic (in order), then looks. */
  const look = (traffic: Record<string, Traffic> = {}) => {
    for (const [version, t] of Object.entries(traffic)) serve(merged, version, t);
    judgeOf.evaluate(merged.series, ++minute * MINUTE);
  };
  return { judge: judgeOf, merged, audited, evidence, changes, look };
}

describe('VersionJudge', () => {
  it('judges nothing while a worker id has one version', () => {
    const { judge, look } = setup();
    look({ '1.0': { requests: 500 } });
    expect(judge.verdicts()).toEqual([]);
  });

  it('collects until min_requests, then finds an equal candidate healthy, side by side', () => {
    const { judge, look, changes } = setup();
    look({ '1.0': { requests: 500 } });
    look({ '1.0': { requests: 500 }, '1.1': { requests: 50 } });
    expect(judge.verdicts()[0]).toMatchObject({
      candidate: '1.1',
      baseline: '1.0',
      state: 'collecting',
      looks: 0,
    });
    look({ '1.0': { requests: 500 }, '1.1': { requests: 100 } });
    const verdict = judge.verdicts()[0];
    expect(verdict).toMatchObject({ state: 'healthy', mode: 'side_by_side', looks: 1, since: 3 * MINUTE });
    // Side by side compares only the windows both served: the baseline's first minute is left out.
    expect(verdict?.requests).toEqual({ baseline: 1000, candidate: 150 });
    expect(changes.map((c) => [c.previous, c.verdict.state])).toEqual([
      [undefined, 'collecting'],
      ['collecting', 'healthy'],
    ]);
  });

  it('judges more errors regressed for good, audits it, and keeps the candidate’s traces as evidence', () => {
    const { judge, look, audited, evidence } = setup({ evidence: { enabled: true } });
    look({ '1.0': { requests: 1000, errors: 20 }, '1.1': { requests: 1000, errors: 100 } });
    const verdict = judge.verdicts()[0];
    expect(verdict).toMatchObject({ state: 'regressed', looks: 1 });
    expect(verdict?.comparisons[0]).toMatchObject({ metric: 'error_rate', pop: '*', regressed: true });
    expect(verdict?.comparisons[0]?.effect).toBeCloseTo(0.08, 10);
    expect(audited).toContainEqual([
      'version.verdict',
      expect.objectContaining({ worker_id: '42817', candidate: '1.1', baseline: '1.0', state: 'regressed' }),
    ]);
    expect(evidence).toEqual([[{ workerId: '42817', version: '1.1' }]]);
    // Final: better numbers later do not clear it (the alpha for this candidate is spent).
    look({ '1.1': { requests: 100_000 }, '1.0': { requests: 1000, errors: 20 } });
    expect(judge.verdicts()[0]).toMatchObject({ state: 'regressed', looks: 1 });
  });

  it('says suspect when a look alone is significant but the correction for every look is not', () => {
    // Level per comparison: 0.1 / 100 looks / 5 tests = 2e-4; for one look alone 0.02. Fisher p = 0.0011.
    const { judge, look, evidence } = setup({
      alpha: 0.1,
      max_looks: 100,
      evidence: { enabled: true },
    });
    look({ '1.0': { requests: 1000, errors: 20 }, '1.1': { requests: 1000, errors: 45 } });
    expect(judge.verdicts()[0]?.state).toBe('suspect');
    expect(judge.verdicts()[0]?.reason).toMatch(
      /^suspect: error rate over all PoPs \+2\.50 points .*evidence is kept/,
    );
    expect(evidence).toEqual([[{ workerId: '42817', version: '1.1' }]]);
  });

  it('posts no evidence unless enabled', () => {
    const { look, evidence } = setup();
    look({ '1.0': { requests: 1000, errors: 20 }, '1.1': { requests: 1000, errors: 100 } });
    expect(evidence).toEqual([]);
  });

  it('compares before/after once the candidate has taken over, and says it is weaker', () => {
    const { judge, look } = setup();
    look({ '1.0': { requests: 1000 } });
    look({ '1.1': { requests: 1000, ms: 300 } });
    const verdict = judge.verdicts()[0];
    expect(verdict).toMatchObject({ mode: 'before_after', state: 'regressed', baseline: '1.0' });
    expect(verdict?.reason).toMatch(/before\/after against the baseline's last 1 window.*weaker/);
    expect(verdict?.comparisons[0]).toMatchObject({ metric: 'server_latency', regressed: true });
  });

  it('takes the version that served most before the candidate as its baseline', () => {
    const { judge, look } = setup();
    look({ '1.0': { requests: 300 }, '0.9': { requests: 100 } });
    look({ '0.9': { requests: 2000 }, '1.1': { requests: 10 } });
    expect(judge.verdicts()[0]).toMatchObject({ candidate: '1.1', baseline: '1.0' });
  });

  /** A judge with 1.1 found healthy beside 1.0 at the first look. */
  function judged() {
    const harness = setup();
    serve(harness.merged, '1.0', { requests: 500 });
    serve(harness.merged, '1.1', { requests: 500 });
    harness.look();
    return harness;
  }

  it('ends a verdict when a newer version appears, judging that one against the old candidate', () => {
    const { judge, look, changes } = judged();
    look({ '1.1': { requests: 2000 }, '1.2': { requests: 10 } });
    expect(changes.find((c) => c.ended)).toMatchObject({
      ended: 'superseded',
      previous: 'healthy',
      verdict: { candidate: '1.1' },
    });
    expect(judge.verdicts()[0]).toMatchObject({ candidate: '1.2', baseline: '1.1' });
  });

  it('ends a verdict whose candidate served nothing for the whole window', () => {
    const { judge, look, changes } = judged();
    for (let i = 0; i < 5; i++) {
      look({ '1.0': { requests: 100 } });
    }
    expect(changes.at(-1)).toMatchObject({ ended: 'expired', verdict: { candidate: '1.1' } });
    expect(judge.verdicts()).toEqual([]);
  });

  it('does not judge the version a rollback restored: it is not new', () => {
    const { judge, look, changes } = setup();
    look({ '0.9': { requests: 50 } });
    for (let i = 0; i < 6; i++) {
      look({ '0.9': { requests: 50 }, '1.0': { requests: 500 } });
    }
    look({ '1.1': { requests: 500 }, '1.0': { requests: 500 } });
    expect(judge.verdicts()[0]).toMatchObject({ candidate: '1.1', baseline: '1.0' });
    // Rolled back: 1.1 stops; once it expires, 1.0 (first seen 7 looks ago) is not a candidate.
    for (let i = 0; i < 6; i++) {
      look({ '1.0': { requests: 500 }, '0.9': { requests: 50 } });
    }
    expect(changes.at(-1)).toMatchObject({ ended: 'expired', verdict: { candidate: '1.1' } });
    expect(judge.verdicts()).toEqual([]);
  });

  it('stops after max_looks: a candidate not regressed by then is healthy for good', () => {
    const { judge, look } = setup({ max_looks: 3 });
    for (let i = 0; i < 6; i++) {
      look({ '1.0': { requests: 200 }, '1.1': { requests: 200 } });
    }
    expect(judge.verdicts()[0]).toMatchObject({ state: 'healthy', looks: 3, evaluatedAt: 3 * MINUTE });
    expect(judge.verdicts()[0]?.reason).toMatch(/all looks spent/);
  });

  it('judges each worker id apart, at each PoP, and survives a failing listener', () => {
    const { judge, merged, look } = setup();
    judge.onChange(() => {
      throw new Error('an action failed');
    });
    serve(merged, '1.0', { requests: 500, pop: 'FRA' });
    serve(merged, '1.1', { requests: 500, pop: 'FRA' });
    look({
      '2.0': { requests: 500, workerId: '7' },
      '2.1': { requests: 500, workerId: '7' },
      '1.0': { requests: 500, pop: 'AMS' },
      '1.1': { requests: 500, pop: 'AMS', originMs: 200 },
    });
    const [first, second] = judge.verdicts();
    expect(first).toMatchObject({ workerId: '42817', state: 'regressed' });
    expect(first?.comparisons[0]).toMatchObject({ metric: 'origin_latency', regressed: true });
    expect(first?.comparisons.filter((c) => c.regressed).map((c) => c.pop)).toContain('AMS');
    expect(first?.comparisons.filter((c) => c.regressed).map((c) => c.pop)).not.toContain('FRA');
    expect(second).toMatchObject({ workerId: '7', state: 'healthy' });
  });
});
