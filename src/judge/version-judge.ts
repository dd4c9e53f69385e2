import type { VersionHealthConfig } from '../health/config.ts';
import type { MergedSeries } from '../health/merged-health.ts';
import { REQUESTS, valuesPerSeries } from '../health/snapshot.ts';
import type { AuditSink } from '../telemetry/audit-log.ts';
import type { Logger } from '../telemetry/logger.ts';
import { ALL_POPS, Comparer, sumWindows } from './compare.ts';
import { JudgeHistory, SERVER, type VersionHistory, type Window } from './history.ts';
import { reasonFor } from './reason.ts';
import type {
  JudgeMode,
  Verdict,
  VerdictChange,
  VerdictListener,
  VerdictSource,
  VerdictState,
} from './verdict.ts';

/** Versions tracked per worker id: the candidate, its baseline, and a few older ones that may come back. */
const MAX_VERSIONS = 6;

/** A (worker id, version) whose traces are kept as evidence. */
export interface EvidenceKey {
  workerId: string;
  version: string;
}

export interface JudgeOptions {
  audit: AuditSink;
  log?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Told the versions to keep every trace of, whenever that list changes (with evidence enabled). */
  evidence?: (versions: EvidenceKey[]) => void;
}

interface Judged {
  readonly candidate: string;
  readonly baseline: string;
  looks: number;
  verdict: Verdict | undefined;
}

/** Newest first: first seen last, and among versions first seen together, the higher version string. */
const newer = (a: VersionHistory, b: VersionHistory): number =>
  b.firstWindow - a.firstWindow || b.version.localeCompare(a.version, 'en', { numeric: true });

const servedIn = (windows: readonly Window[], keep: (w: Window) => boolean): number => {
  let served = 0;
  for (const w of windows)
    if (keep(w)) for (const [server] of w.counts.values()) served += server[REQUESTS] as number;
  return served;
};

/**
 * Judges, per EdgeWorker id, the newest version (the candidate) against the one that served most before
 * it (the baseline), once per look over the merged series. Main thread, on a timer: nothing per span.
 *
 * False alarms over repeated looks are bounded by Bonferroni over the planned looks: each look tests at
 * alpha / max_looks, split again over that look's comparisons (compare.ts), so the chance that any look
 * of a candidate as good as its baseline says `regressed` is at most alpha, however the looks correlate.
 */
export class VersionJudge implements VerdictSource {
  readonly #config: VersionHealthConfig['judge'];
  readonly #stride: number;
  readonly #maxWindows: number;
  readonly #history: JudgeHistory;
  readonly #comparer: Comparer;
  readonly #options: JudgeOptions;
  readonly #judged = new Map<string, Judged>();
  readonly #listeners = new Set<VerdictListener>();
  #evidence = '';

  constructor(config: VersionHealthConfig, options: JudgeOptions) {
    this.#config = config.judge;
    this.#stride = valuesPerSeries(config.histogram.explicit.buckets.length);
    this.#maxWindows = Math.max(1, Math.round(config.judge.window / config.judge.evaluation_interval));
    this.#history = new JudgeHistory(this.#stride, this.#maxWindows, MAX_VERSIONS);
    this.#comparer = new Comparer(config.judge, config.histogram.explicit.buckets as number[]);
    this.#options = options;
  }

  verdicts(): Verdict[] {
    return [...this.#judged.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([, judged]) => (judged.verdict ? [judged.verdict] : []));
  }

  onChange(listener: VerdictListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** One look: closes a window of the merged series as of `now` (epoch ms) and judges every worker id. */
  evaluate(series: readonly MergedSeries[], now: number): void {
    this.#history.close(series, now, (id) => {
      const judged = this.#judged.get(id);
      return judged ? [judged.candidate, judged.baseline] : [];
    });
    for (const [id, versions] of this.#history.workers) this.#track(id, versions, now);
    for (const [id, judged] of this.#judged) this.#judge(id, judged, now);
    this.#publishEvidence();
  }

  /** Chooses the candidate and its baseline; lets silent versions go, ending a silent candidate's verdict. */
  #track(id: string, versions: ReadonlyMap<string, VersionHistory>, now: number): void {
    const judged = this.#judged.get(id);
    const silentSince = this.#history.index - this.#maxWindows;
    for (const history of [...versions.values()]) {
      const inUse = judged && (history.version === judged.candidate || history.version === judged.baseline);
      if (history.lastWindow > silentSince || (inUse && history.version !== judged.candidate)) continue;
      if (inUse) this.#end(id, 'expired', now);
      this.#history.forget(id, history.version);
    }
    const current = this.#judged.get(id);
    const [candidate, ...others] = [...versions.values()].sort(newer);
    // Only a version new within the window is a candidate: after a rollback (the candidate expired), the
    // version restored is not new and is not judged against an older one.
    if (!candidate || candidate.version === current?.candidate || candidate.firstWindow <= silentSince)
      return;
    if (current) this.#end(id, 'superseded', now);
    const before = (w: Window) => w.index < candidate.firstWindow;
    const baseline = others.sort(
      (a, b) => servedIn(b.windows, before) - servedIn(a.windows, before) || b.served - a.served,
    )[0];
    if (baseline)
      this.#judged.set(id, {
        candidate: candidate.version,
        baseline: baseline.version,
        looks: 0,
        verdict: undefined,
      });
  }

  #judge(id: string, judged: Judged, now: number): void {
    const previous = judged.verdict;
    // Regressed, and healthy once every look is spent, are final: the alpha is used up.
    if (previous?.state === 'regressed' || judged.looks >= this.#config.max_looks) return;
    const versions = this.#history.workers.get(id);
    const candidate = versions?.get(judged.candidate);
    const baseline = versions?.get(judged.baseline);
    const index = this.#history.index;
    // No new candidate traffic, no new information: a look now would spend alpha on the same data.
    if (!candidate || !baseline || candidate.lastWindow !== index) return;
    const mode: JudgeMode = baseline.lastWindow === index ? 'side_by_side' : 'before_after';
    let candidateWindows = candidate.windows;
    let baselineWindows = baseline.windows;
    if (mode === 'side_by_side') {
      const shared = new Set(baseline.windows.map((w) => w.index));
      candidateWindows = candidate.windows.filter((w) => shared.has(w.index));
      const both = new Set(candidateWindows.map((w) => w.index));
      baselineWindows = baseline.windows.filter((w) => both.has(w.index));
    }
    const baseCounts = sumWindows(baselineWindows, this.#stride);
    const candCounts = sumWindows(candidateWindows, this.#stride);
    const config = this.#config;
    const { comparisons, suspect } = this.#comparer.compare(baseCounts, candCounts);
    const tested = comparisons.some((c) => c.tested);
    if (tested) judged.looks++;
    let state: VerdictState = 'collecting';
    if (comparisons.some((c) => c.regressed)) state = 'regressed';
    else if (suspect && judged.looks < config.max_looks) state = 'suspect';
    else if (tested) state = 'healthy';
    // A look that tests nothing (history aged out) leaves a judged candidate as it was.
    else if (previous && previous.state !== 'collecting') state = previous.state;
    comparisons.sort((a, b) => Number(b.regressed) - Number(a.regressed));
    const served = (counts: typeof baseCounts) => counts.get(ALL_POPS)?.[SERVER][REQUESTS] ?? 0;
    judged.verdict = {
      workerId: id,
      candidate: judged.candidate,
      baseline: judged.baseline,
      state,
      mode,
      reason: reasonFor({
        state,
        mode,
        comparisons,
        looks: judged.looks,
        maxLooks: config.max_looks,
        alpha: config.alpha,
        minRequests: config.min_requests,
        latencyQuantile: config.latency_quantile,
        windows: (mode === 'side_by_side' ? candidateWindows : baselineWindows).length,
      }),
      since: previous && previous.state === state ? previous.since : now,
      evaluatedAt: now,
      firstSeen: candidate.firstSeen,
      looks: judged.looks,
      maxLooks: config.max_looks,
      comparisons,
      requests: { baseline: served(baseCounts), candidate: served(candCounts) },
    };
    if (previous?.state !== state) this.#changed({ verdict: judged.verdict, previous: previous?.state });
  }

  #end(id: string, ended: 'superseded' | 'expired', now: number): void {
    const judged = this.#judged.get(id);
    this.#judged.delete(id);
    const verdict = judged?.verdict;
    if (verdict) this.#changed({ verdict: { ...verdict, evaluatedAt: now }, previous: verdict.state, ended });
  }

  #changed(change: VerdictChange): void {
    const { verdict } = change;
    this.#options.audit.record('version.verdict', {
      worker_id: verdict.workerId,
      candidate: verdict.candidate,
      baseline: verdict.baseline,
      state: verdict.state,
      previous: change.previous,
      ...(change.ended ? { ended: change.ended } : {}),
      mode: verdict.mode,
      looks: verdict.looks,
      requests: verdict.requests,
      reason: verdict.reason,
    });
    const log = this.#options.log;
    const fields = { worker_id: verdict.workerId, candidate: verdict.candidate, baseline: verdict.baseline };
    if (change.ended)
      log?.info({ ...fields, ended: change.ended }, `version verdict ended: ${verdict.state}`);
    else (verdict.state === 'regressed' ? log?.warn : log?.info)?.call(log, fields, verdict.reason);
    for (const listener of this.#listeners) {
      // One failing listener (an action) must not stop the judge or the others.
      try {
        listener(change);
      } catch (err) {
        log?.error({ err, ...fields }, 'a verdict listener failed');
      }
    }
  }

  /** Posts the suspect and regressed candidates when that list changes: what the samplers keep whole. */
  #publishEvidence(): void {
    const post = this.#options.evidence;
    if (!post || !this.#config.evidence.enabled) return;
    const keys = this.verdicts()
      .filter((v) => v.state === 'suspect' || v.state === 'regressed')
      .map((v) => ({ workerId: v.workerId, version: v.candidate }));
    const text = JSON.stringify(keys);
    if (text === this.#evidence) return;
    this.#evidence = text;
    post(keys);
  }
}
