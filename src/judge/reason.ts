import type { JudgeMode, MetricComparison, VerdictState } from './verdict.ts';

// The verdict's `reason`: one sentence an SRE can act on, with the numbers that decided it.

export interface ReasonContext {
  state: VerdictState;
  mode: JudgeMode;
  comparisons: readonly MetricComparison[];
  looks: number;
  maxLooks: number;
  alpha: number;
  minRequests: number;
  latencyQuantile: number;
  /** Windows compared: side by side, those both served; before/after, the baseline's. */
  windows: number;
}

/** A rate as a percentage, as verdicts, notices and the versions page print it. */
export const percent = (x: number, digits = 0): string => `${(x * 100).toFixed(digits)}%`;
const seconds = (s: number | undefined): string => (s === undefined ? '–' : `${(s * 1000).toFixed(1)} ms`);
const signed = (text: string, x: number): string => (x >= 0 ? `+${text}` : text);

function describe(c: MetricComparison, quantile: number): string {
  const where = c.pop === '*' ? 'over all PoPs' : `at ${c.pop}`;
  const p = `p = ${(c.p_value ?? 1).toPrecision(2)}`;
  if (c.metric === 'error_rate') {
    const change = `${percent(c.baseline.errorRate, 2)} → ${percent(c.candidate.errorRate, 2)}`;
    return `error rate ${where} ${signed(`${(c.effect * 100).toFixed(2)} points`, c.effect)} (${change}), ${p}`;
  }
  const what = c.metric === 'server_latency' ? 'server latency' : 'origin latency';
  const median = c.test === 'mann_whitney_u';
  const [from, to] = median ? [c.baseline.p50, c.candidate.p50] : [c.baseline.tail, c.candidate.tail];
  const name = median
    ? 'p50 (Mann-Whitney over the distribution)'
    : `p${+(quantile * 100).toFixed(1)} (tail share)`;
  return `${what} ${where} ${name} ${signed(percent(c.effect), c.effect)} (${seconds(from)} → ${seconds(to)}), ${p}`;
}

function modeText(mode: JudgeMode, windows: number): string {
  return mode === 'side_by_side'
    ? `side by side over the ${windows} window(s) both versions served`
    : `before/after against the baseline's last ${windows} window(s) of traffic (weaker: the candidate has ` +
        'taken over, so anything else that changed since counts against it)';
}

export function reasonFor(context: ReasonContext): string {
  const { state, comparisons, looks, maxLooks, alpha } = context;
  const how = modeText(context.mode, context.windows);
  const look = `look ${looks} of ${maxLooks}`;
  if (state === 'collecting') {
    const all = comparisons.find((c) => c.metric === 'error_rate');
    const counts = all
      ? ` (baseline ${Math.round(all.baseline.requests)}, candidate ${Math.round(all.candidate.requests)})`
      : '';
    return `collecting: ${context.minRequests} server requests of each version are needed before a first test${counts}; ${how}`;
  }
  if (state === 'regressed') {
    const c = comparisons.find((x) => x.regressed) as MetricComparison;
    return (
      `regressed: ${describe(c, context.latencyQuantile)} < ${(c.level ?? 0).toPrecision(2)} ` +
      `(alpha ${alpha} split over ${maxLooks} looks and each look's comparisons), at least the minimum ` +
      `effect of ${c.metric === 'error_rate' ? `${(c.threshold * 100).toFixed(2)} points` : percent(c.threshold)}; ${look}; ${how}`
    );
  }
  if (state === 'suspect') {
    // The comparison nearest to its corrected level among those large enough.
    const c = comparisons
      .filter((x) => x.tested && x.effect >= x.threshold)
      .sort(
        (a, b) => (a.p_value ?? 1) / (a.level ?? 1) - (b.p_value ?? 1) / (b.level ?? 1),
      )[0] as MetricComparison;
    const single = (c.level ?? 0) * maxLooks;
    return (
      `suspect: ${describe(c, context.latencyQuantile)} < ${single.toPrecision(2)} (significant for this look ` +
      `alone), but not below ${(c.level ?? 0).toPrecision(2)} (corrected for ${maxLooks} looks); evidence is kept; ${look}; ${how}`
    );
  }
  const stopped = looks >= maxLooks ? '; all looks spent, so this is final' : '';
  return `healthy: no comparison is worse by its minimum effect at a significant level; ${look}${stopped}; ${how}`;
}
