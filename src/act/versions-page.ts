import { percent } from '../judge/reason.ts';
import type { MetricComparison, Verdict, VerdictState } from '../judge/verdict.ts';
import type { ActionRecord } from './action-log.ts';
import { escapeHtml, lineChart, type Series } from './svg-chart.ts';
import type { HistoryPoint, SideFigures } from './verdict-history.ts';

// GET /versions: per EdgeWorker id, each candidate against its baseline, for the person on call: the
// verdict and why, error rate and p50/p95 over time, the comparisons, and what the relay did about it.
// One HTML document with inline SVG and CSS, no script: it is read where a browser reaches the admin
// port (a port-forward), and it refreshes itself.

export interface PageData {
  readonly verdicts: readonly Verdict[];
  readonly history: (verdict: Verdict) => readonly HistoryPoint[];
  readonly actions: (workerId: string) => readonly ActionRecord[];
  readonly dryRun: boolean | undefined;
  readonly now: number;
}

const CANDIDATE = '#c0392b';
const BASELINE = '#2c6fbb';
const STATE_CLASS: Record<VerdictState, string> = {
  collecting: 'collecting',
  healthy: 'healthy',
  suspect: 'suspect',
  regressed: 'regressed',
};

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}
.verdict{margin:1em 0;padding:.8em;border:1px solid #ddd;border-radius:6px}
.state{display:inline-block;padding:.1em .6em;border-radius:1em;font-weight:600;color:#fff}
.collecting{background:#888}.healthy{background:#2e8b57}.suspect{background:#d98c00}.regressed{background:#c0392b}
.charts{display:flex;flex-wrap:wrap;gap:1em}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left;font-variant-numeric:tabular-nums}
.axis{stroke:#999}.tick,.legend{font-size:11px;fill:#444}.chart-title{font-size:12px;font-weight:600}.chart-empty{fill:#888}
.muted{color:#666}`;

const ms = (v: number) => `${(v * 1000).toFixed(v < 0.01 ? 2 : 0)} ms`;
const time = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 19);
const cell = (text: string) => `<td>${escapeHtml(text)}</td>`;

function series(
  points: readonly HistoryPoint[],
  pick: (side: SideFigures) => number | undefined,
  verdict: Verdict,
): Series[] {
  return [
    {
      name: verdict.baseline,
      color: BASELINE,
      dashed: true,
      points: points.map((p) => [p.time, pick(p.baseline)]),
    },
    { name: verdict.candidate, color: CANDIDATE, points: points.map((p) => [p.time, pick(p.candidate)]) },
  ];
}

function charts(verdict: Verdict, points: readonly HistoryPoint[]): string {
  return `<div class="charts">${[
    lineChart({
      title: 'error rate',
      series: series(points, (s) => s.errorRate, verdict),
      format: (rate) => percent(rate, 2),
    }),
    lineChart({ title: 'p50 server latency', series: series(points, (s) => s.p50, verdict), format: ms }),
    lineChart({ title: 'p95 server latency', series: series(points, (s) => s.p95, verdict), format: ms }),
  ].join('')}</div>`;
}

function figure(comparison: MetricComparison, side: 'baseline' | 'candidate'): string {
  const s = comparison[side];
  return comparison.metric === 'error_rate'
    ? `${percent(s.errorRate, 2)} of ${s.requests}`
    : `p50 ${s.p50 === undefined ? 'n/a' : ms(s.p50)}, p95 ${s.p95 === undefined ? 'n/a' : ms(s.p95)}`;
}

function comparisonTable(verdict: Verdict): string {
  if (verdict.comparisons.length === 0) return '';
  const rows = verdict.comparisons.map((c) =>
    [
      cell(c.metric),
      cell(c.pop),
      cell(figure(c, 'baseline')),
      cell(figure(c, 'candidate')),
      cell(
        c.metric === 'error_rate' ? `${(c.effect * 100).toFixed(2)} pt` : `${(c.effect * 100).toFixed(1)}%`,
      ),
      cell(c.p_value === undefined ? 'untested' : c.p_value.toPrecision(2)),
      cell(c.level === undefined ? '' : c.level.toPrecision(2)),
      cell(c.regressed ? 'regressed' : ''),
    ].join(''),
  );
  return `<table><tr><th>metric</th><th>PoP</th><th>${escapeHtml(verdict.baseline)} (baseline)</th><th>${escapeHtml(
    verdict.candidate,
  )} (candidate)</th><th>effect</th><th>p</th><th>level</th><th></th></tr>${rows.map((r) => `<tr>${r}</tr>`).join('')}</table>`;
}

function actionTable(records: readonly ActionRecord[], verdict: Verdict): string {
  const mine = records.filter((r) => r.candidate === verdict.candidate);
  if (mine.length === 0) return '<p class="muted">No action taken.</p>';
  const rows = mine.map(
    (r) => `<tr>${cell(time(r.time))}${cell(r.action)}${cell(r.outcome)}${cell(r.detail)}</tr>`,
  );
  return `<table class="actions"><tr><th>time (UTC)</th><th>action</th><th>outcome</th><th>detail</th></tr>${rows.join('')}</table>`;
}

function verdictSection(verdict: Verdict, data: PageData): string {
  const state = `<span class="state ${STATE_CLASS[verdict.state]}">${escapeHtml(verdict.state)}</span>`;
  const heading = `${state} candidate <b>${escapeHtml(verdict.candidate)}</b> against baseline <b>${escapeHtml(verdict.baseline)}</b>`;
  const mode = verdict.mode === 'side_by_side' ? 'side by side' : 'before/after (weaker)';
  const facts = `${mode}; ${verdict.requests.baseline} / ${verdict.requests.candidate} requests; look ${verdict.looks} of ${verdict.maxLooks}; ${verdict.state} since ${time(verdict.since)} UTC`;
  return `<div class="verdict" data-state="${verdict.state}"><p>${heading}</p><p class="reason">${escapeHtml(
    verdict.reason,
  )}</p><p class="muted">${escapeHtml(facts)}</p>${charts(verdict, data.history(verdict))}${comparisonTable(
    verdict,
  )}<h3>Actions</h3>${actionTable(data.actions(verdict.workerId), verdict)}</div>`;
}

/** The whole page. */
export function versionsPage(data: PageData): string {
  const byWorker = Map.groupBy(data.verdicts, (v) => v.workerId);
  const mode =
    data.dryRun === undefined
      ? 'No actions are configured.'
      : data.dryRun
        ? 'Actions run as a dry run.'
        : 'Actions are armed.';
  const sections = [...byWorker].map(
    ([id, verdicts]) =>
      `<section id="worker-${escapeHtml(id)}"><h2>EdgeWorker ${escapeHtml(id)}</h2>${verdicts
        .map((v) => verdictSection(v, data))
        .join('')}</section>`,
  );
  const body = sections.length > 0 ? sections.join('') : '<p>No EdgeWorker versions judged yet.</p>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="15"><title>edge-relay: EdgeWorker versions</title><style>${STYLE}</style></head><body><h1>EdgeWorker versions</h1><p class="muted">${escapeHtml(
    mode,
  )} Updated ${time(data.now)} UTC; the numbers are this replica's.</p>${body}</body></html>`;
}
