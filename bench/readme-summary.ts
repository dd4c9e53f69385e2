import { readFileSync, writeFileSync } from 'node:fs';
import { goals } from './goals.ts';
import { cpuRatio, derive, fmt, machineLine, type RunReport, ratio, table } from './report.ts';

// Keeps the README's Performance section in step with the latest run, between two markers.

const START = '<!-- bench:summary:start -->';
const END = '<!-- bench:summary:end -->';

export function readmeSummary(run: RunReport, resultsPath: string): string {
  const ceiling = run.results.find((r) => r.contender === 'ceiling' && r.scenario === 'saturation');
  const rows = run.results
    .filter(
      (r) =>
        r.scenario === 'saturation' &&
        (r.contender !== 'relay' || r === run.results.find((x) => x.contender === 'relay')),
    )
    .map((r) => {
      const d = derive(r);
      const atRate = (scenario: string) =>
        run.results.find((x) => x.contender === r.contender && x.scenario === scenario)?.load.latency.p99;
      return [
        r.label,
        fmt(d.spansPerSecond),
        fmt(ratio(r, ceiling), 2),
        fmt(cpuRatio(r, ceiling), 2),
        [atRate('steady'), atRate('slow backend'), atRate('backend down')].map((v) => fmt(v, 2)).join(' / '),
        fmt(d.cpuPerMillionSpans, 1),
        fmt(d.lossPct, 2),
      ];
    });
  return `${START}
Latest run: [${resultsPath}](${resultsPath}), ${run.date}${run.quick ? ', quick' : ''}, on ${machineLine(run.machine)}.
${run.caveat ? `**${run.caveat}**\n` : ''}
${table(['contender', 'spans/s at saturation', '× ceiling', '× ceiling by CPU', `p99 ms at ${fmt(run.steadyRate)} beacons/s: steady / slow backend / backend down`, 'CPU s / M spans', 'loss % at saturation'], rows)}

${goals(run.results, run.skipped).join('\n')}
${END}`;
}

export function updateReadme(file: string, summary: string): void {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${file} has no ${START} … ${END} block to update`);
  writeFileSync(file, text.slice(0, start) + summary + text.slice(end + END.length));
}
