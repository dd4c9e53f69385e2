import type { EncodeRate } from './encode-bench.ts';
import { totalDropped } from './relay-accounting.ts';
import type { SamplerBench } from './sampler-bench.ts';
import type { ScenarioResult } from './scenario.ts';

// What a run measured and the ratios derived from it: pure functions, tested in harness.test.ts.

export interface Machine {
  nproc: number;
  cpuModel: string;
  node: string;
  kernel: string;
}

export interface RunReport {
  date: string;
  quick: boolean;
  /** Why the numbers should not be trusted, if they should not. */
  caveat?: string;
  machine: Machine;
  /** How edge-relay was started: its CLI and any node options. */
  relayCommand: string;
  pinning: string;
  connections: number;
  steadyRate: number;
  /** The contender whose saturating rate, halved, is the fixed rate. */
  steadyRateFrom: string;
  encode: EncodeRate[];
  /** The version-health stage alone (micro-bench); absent in runs from before it existed. */
  versionHealth?: EncodeRate[];
  /** Beacon validation alone (micro-bench; `spansPerSecond` counts beacons); absent in runs from before it. */
  validate?: EncodeRate[];
  /** A shard's intake and tail sampler alone (micro-bench); absent in runs from before it. */
  sampler?: SamplerBench;
  results: ScenarioResult[];
  skipped: { label: string; reason: string }[];
  chartFile: string;
}

export interface Derived {
  beaconsPerSecond: number;
  spansPerSecond: number;
  /** Spans the server acknowledged. */
  sent: number;
  delivered?: number;
  /** Spans meant for the backend (not sampled out) that did not reach it. */
  lost?: number;
  lossPct?: number;
  /** Lost spans the contender does not count anywhere (no drop reason, not in flight). */
  unaccounted?: number;
  cpuPerMillionSpans: number;
  bytesPerSpan?: number;
}

export function derive(r: ScenarioResult): Derived {
  const beaconsPerSecond = r.load.acked / r.load.seconds;
  const derived: Derived = {
    beaconsPerSecond,
    spansPerSecond: beaconsPerSecond * r.spansPerBeacon,
    sent: r.accepted,
    cpuPerMillionSpans: r.accepted > 0 ? r.cpuSeconds / (r.accepted / 1e6) : Number.NaN,
  };
  if (!r.sink) return derived;
  const lost = r.accepted - (r.relay?.sampledOut ?? 0) - r.sink.spans;
  const counted = r.relay ? totalDropped(r.relay) + r.relay.inFlight : 0;
  return {
    ...derived,
    delivered: r.sink.spans,
    lost,
    lossPct: r.accepted > 0 ? (100 * lost) / r.accepted : Number.NaN,
    unaccounted: lost - counted,
    bytesPerSpan: r.sink.spans > 0 ? r.sink.bytes / r.sink.spans : Number.NaN,
  };
}

/** The contender, with its worker threads where it has any (edge-relay). */
export const runLabel = (r: ScenarioResult): string =>
  r.contender.startsWith('relay')
    ? `${r.label}, ${r.threads} worker thread${r.threads === 1 ? '' : 's'}`
    : r.label;

export function fmt(value: number | undefined, digits = 0): string {
  if (value === undefined || Number.isNaN(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A markdown table with cells padded to their column's width (as biome formats markdown). */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export const saturation = (results: ScenarioResult[], id: string): ScenarioResult | undefined =>
  results.find((r) => r.contender === id && r.scenario === 'saturation');

/** How many spans `a` carries per CPU second relative to `b`: the throughput ratio that contention on a
 * shared machine disturbs least, since each process is charged only for the CPU it got. */
export const cpuRatio = (a: ScenarioResult | undefined, b: ScenarioResult | undefined): number =>
  a && b ? derive(b).cpuPerMillionSpans / derive(a).cpuPerMillionSpans : Number.NaN;

export const ratio = (a: ScenarioResult | undefined, b: ScenarioResult | undefined): number =>
  a && b ? derive(a).beaconsPerSecond / derive(b).beaconsPerSecond : Number.NaN;

export function machineLine(m: Machine): string {
  return `${m.nproc} × ${m.cpuModel}, Node ${m.node}, Linux ${m.kernel}`;
}
