import { CONTENDERS } from './contenders.ts';
import { cpuRatio, derive, fmt, type RunReport, ratio, saturation } from './report.ts';
import type { ScenarioResult } from './scenario.ts';

// The goals of issue 19, each as a ratio of two contenders measured in the same run (ratios survive a
// busy machine far better than absolute rates), plus what the issue asks to be shown beside them.

const steady = (results: ScenarioResult[], id: string): ScenarioResult | undefined =>
  results.find((r) => r.contender === id && r.scenario === 'steady');

interface Goal {
  label: string;
  /** Contender ids the ratio needs; a missing one is named with the reason it is missing. */
  needs: string[];
  value: number;
  goal: number;
  /** true: the value must be at most the goal (costs); false: at least (throughputs). */
  atMost: boolean;
}

function goalLine(
  { label, needs, value, goal, atMost }: Goal,
  results: ScenarioResult[],
  skipped: RunReport['skipped'],
): string {
  const wanted = `goal ${atMost ? '≤' : '≥'} ${goal}×`;
  if (Number.isNaN(value)) {
    const missing = needs
      .filter((id) => !results.some((r) => r.contender === id))
      .map((id) => {
        const contender = CONTENDERS.find((c) => c.id === id)?.label ?? id;
        const why = skipped.find((s) => s.label === contender)?.reason;
        return `${contender}${why ? ` ${why}` : ' not run'}`;
      });
    return `- ${label} (${wanted}): not measured${missing.length ? ` (${missing.join('; ')})` : ''}`;
  }
  const met = atMost ? value <= goal : value >= goal;
  const verdict = met ? 'met' : `${atMost ? 'over' : 'short'} by ${fmt(Math.abs(value - goal), 2)}`;
  return `- ${label}: ${fmt(value, 2)}× (${wanted}): ${verdict}`;
}

/** What the write-ahead log costs (issue 20): ratios against keep-all without it, in the same run. */
export function walCost(results: ScenarioResult[]): string | undefined {
  const wal = saturation(results, 'relay-wal');
  const plain = saturation(results, 'relay');
  if (!wal || !plain) return undefined;
  const p99 = (a: ScenarioResult | undefined, b: ScenarioResult | undefined) =>
    a && b
      ? `${fmt(a.load.latency.p99, 2)} ms against ${fmt(b.load.latency.p99, 2)} ms (${fmt(a.load.latency.p99 / b.load.latency.p99, 2)}×)`
      : '–';
  return (
    `- write-ahead log (receiver.durability: wal) against keep-all without it: ` +
    `${fmt(ratio(wal, plain), 2)}× the beacons/s, ${fmt(cpuRatio(wal, plain), 2)}× the spans per CPU second; ` +
    `ack p99 at saturation ${p99(wal, plain)}, at the fixed rate ${p99(steady(results, 'relay-wal'), steady(results, 'relay'))}`
  );
}

/** Two contenders side by side, as information rather than a goal. */
function beside(label: string, a: ScenarioResult | undefined, b: ScenarioResult | undefined): string[] {
  if (!a || !b) return [];
  return [
    `- ${label}: ${fmt(ratio(a, b), 2)}× the beacons/s, ${fmt(cpuRatio(a, b), 2)}× the spans per CPU second`,
  ];
}

/** One line per goal of issue 19 (met, or by how much not), then the rows shown beside them. */
export function goals(results: ScenarioResult[], skipped: RunReport['skipped'] = []): string[] {
  const at = (id: string) => saturation(results, id);
  const p99 = (id: string) => steady(results, id)?.load.latency.p99 ?? Number.NaN;
  const atLeast = (label: string, a: string, b: string, goal: number): Goal => ({
    label: `${label} throughput vs ${CONTENDERS.find((c) => c.id === b)?.label ?? b}`,
    needs: [a, b],
    value: ratio(at(a), at(b)),
    goal,
    atMost: false,
  });
  const cpuAtMost = (label: string, id: string, goal: number): Goal => ({
    label: `CPU per span, all threads, vs the ceiling's: ${label}`,
    needs: [id, 'ceiling'],
    value: 1 / cpuRatio(at(id), at('ceiling')),
    goal,
    atMost: true,
  });
  const rows: Goal[] = [
    atLeast('keep-all', 'relay', 'sdk', 1.5),
    atLeast('keep-all', 'relay', 'ceiling', 0.8),
    atLeast('realistic policies (errors + slow + 10%)', 'relay-sampled', 'relay', 1.2),
    cpuAtMost('keep-all', 'relay', 1.3),
    cpuAtMost('realistic policies', 'relay-sampled', 1.15),
    {
      label: "keep-all ack p99 at half the saturating rate vs the ceiling's p99",
      needs: ['relay', 'ceiling'],
      value: p99('relay') / p99('ceiling'),
      goal: 3,
      atMost: true,
    },
  ];
  const lines = rows.map((row) => goalLine(row, results, skipped));
  lines.push(...beside('2 receiver threads vs 1 (keep-all)', at('relay-r2'), at('relay')));
  lines.push(
    ...beside('bare fastify vs bare node:http (what fastify costs)', at('ceiling'), at('ceiling-http')),
  );
  const wal = walCost(results);
  if (wal) lines.push(wal);
  const relayRows = results.filter((r) => r.contender.startsWith('relay'));
  const unaccounted = relayRows.reduce((sum, r) => sum + (derive(r).unaccounted ?? 0), 0);
  const undrained = relayRows.filter((r) => !r.drain.quiet).length;
  lines.push(
    `- zero unaccounted loss: ${fmt(unaccounted)} spans unaccounted over ${relayRows.length} edge-relay runs` +
      (unaccounted === 0 ? ': met' : ': not met') +
      (undrained > 0
        ? ` (${undrained} runs had not finished delivering when the bench stopped waiting)`
        : ''),
  );
  return lines;
}
