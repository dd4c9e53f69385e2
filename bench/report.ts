import { CONTENDERS } from './contenders.ts';
import type { EncodeRate } from './encode-bench.ts';
import { totalDropped } from './relay-accounting.ts';
import type { ScenarioName, ScenarioResult } from './scenario.ts';

// Turns measurements into the markdown report: pure functions, tested in report.test.ts.

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
  r.contender.startsWith('relay') ? `${r.label}, ${r.threads} thread${r.threads === 1 ? '' : 's'}` : r.label;

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

const saturation = (results: ScenarioResult[], id: string): ScenarioResult | undefined =>
  results.find((r) => r.contender === id && r.scenario === 'saturation');

/** How many spans `a` carries per CPU second relative to `b`: the throughput ratio that contention on a
 * shared machine disturbs least, since each process is charged only for the CPU it got. */
export const cpuRatio = (a: ScenarioResult | undefined, b: ScenarioResult | undefined): number =>
  a && b ? derive(b).cpuPerMillionSpans / derive(a).cpuPerMillionSpans : Number.NaN;

export const ratio = (a: ScenarioResult | undefined, b: ScenarioResult | undefined): number =>
  a && b ? derive(a).beaconsPerSecond / derive(b).beaconsPerSecond : Number.NaN;

/**
 * What the write-ahead log costs (issue 20): its contender against keep-all without it, in the same run,
 * as ratios of throughput (beacons/s and spans per CPU second) and of ack p99 at saturation and at the
 * fixed rate.
 */
export function walCost(results: ScenarioResult[]): string | undefined {
  const wal = saturation(results, 'relay-wal');
  const plain = saturation(results, 'relay');
  if (!wal || !plain) return undefined;
  const steady = (id: string) => results.find((r) => r.contender === id && r.scenario === 'steady');
  const p99 = (a: ScenarioResult | undefined, b: ScenarioResult | undefined) =>
    a && b
      ? `${fmt(a.load.latency.p99, 2)} ms against ${fmt(b.load.latency.p99, 2)} ms (${fmt(a.load.latency.p99 / b.load.latency.p99, 2)}×)`
      : '–';
  return (
    `- write-ahead log (receiver.durability: wal) against keep-all without it: ` +
    `${fmt(ratio(wal, plain), 2)}× the beacons/s, ${fmt(cpuRatio(wal, plain), 2)}× the spans per CPU second; ` +
    `ack p99 at saturation ${p99(wal, plain)}, at the fixed rate ${p99(steady('relay-wal'), steady('relay'))}`
  );
}

/** One line per goal of issue 7: met, or short by how much. */
export function goals(results: ScenarioResult[], skipped: RunReport['skipped'] = []): string[] {
  const ceiling = saturation(results, 'ceiling');
  const sdk = saturation(results, 'sdk');
  const lines: string[] = [];
  const throughput = (id: string, label: string, target: number) => {
    const row = saturation(results, id);
    if (!row) {
      const contender = CONTENDERS.find((c) => c.id === id)?.label;
      const why = skipped.find((s) => s.label === contender)?.reason;
      return lines.push(
        `- ${label} ≥ ${target} of the ceiling: not measured${why ? ` (${contender} ${why})` : ''}`,
      );
    }
    const share = ratio(row, ceiling);
    const verdict = share >= target ? 'met' : `short by ${fmt(target - share, 2)}`;
    const vsSdk = ratio(row, sdk);
    lines.push(
      `- ${label}: ${fmt(share, 2)} of the ceiling (goal ≥ ${target}): ${verdict}; ` +
        `${fmt(vsSdk, 2)}× the SDK relay (goal > 1): ${vsSdk > 1 ? 'met' : 'not met'}. ` +
        `By CPU time per span: ${fmt(cpuRatio(row, ceiling), 2)} of the ceiling, ${fmt(cpuRatio(row, sdk), 2)}× the SDK relay`,
    );
  };
  throughput('relay-sampled', 'realistic policies', 0.8);
  throughput('relay', 'keep everything, gzip on', 0.6);
  const wal = walCost(results);
  if (wal) lines.push(wal);
  for (const r of results.filter((x) => x.contender.startsWith('relay') && x.rate !== undefined)) {
    const p99 = r.load.latency.p99;
    const steady = results.find((x) => x.contender === r.contender && x.scenario === 'steady');
    const versus = r !== steady && steady ? ` (steady: ${fmt(steady.load.latency.p99, 2)} ms)` : '';
    lines.push(
      `- p99 ack ≤ 2 ms at ${fmt(r.rate)} beacons/s, ${r.label}, ${r.scenario}: ${fmt(p99, 2)} ms${versus}: ` +
        (p99 <= 2 ? 'met' : `over by ${fmt(p99 - 2, 2)} ms`),
    );
  }
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

const ms = (v: number) => fmt(v, 2);
const mb = (bytes: number) => fmt(bytes / 1024 / 1024, 0);

function throughputTable(results: ScenarioResult[]): string {
  const ceiling = saturation(results, 'ceiling');
  const sdk = saturation(results, 'sdk');
  const rows = results
    .filter((r) => r.scenario === 'saturation')
    .map((r) => {
      const d = derive(r);
      return [
        runLabel(r),
        fmt(d.beaconsPerSecond),
        fmt(d.spansPerSecond),
        fmt(ratio(r, ceiling), 2),
        fmt(cpuRatio(r, ceiling), 2),
        fmt(ratio(r, sdk), 2),
        ms(r.load.latency.p50),
        ms(r.load.latency.p99),
        ms(r.load.latency.p999),
        r.load.autocannonMs
          ? [r.load.autocannonMs.p50, r.load.autocannonMs.p99, r.load.autocannonMs.p999].join(' / ')
          : '–',
        fmt(r.load.refused),
        fmt((100 * r.load.generatorCpuSeconds) / r.load.seconds),
        fmt(d.cpuPerMillionSpans, 1),
        mb(r.peakRss) + (r.peakRssSinceStart ? '*' : ''),
        fmt(d.lossPct, 2),
      ];
    });
  return table(
    [
      'contender',
      'beacons/s',
      'spans/s',
      '× ceiling',
      '× ceiling by CPU',
      '× SDK',
      'p50 ms',
      'p99 ms',
      'p99.9 ms',
      'autocannon ms',
      'refused',
      'load-gen CPU %',
      'CPU s / M spans',
      'peak RSS MB',
      'loss %',
    ],
    rows,
  );
}

function threadTable(results: ScenarioResult[]): string {
  const perBeacon = (seconds: number, r: ScenarioResult) => fmt((seconds / r.load.acked) * 1e6, 1);
  return table(
    ['contender', 'main thread', 'worker threads', 'other threads', 'whole process'],
    results
      .filter((r) => r.scenario === 'saturation')
      .map((r) => [
        runLabel(r),
        perBeacon(r.threadCpu.main, r),
        perBeacon(r.threadCpu.workers, r),
        perBeacon(r.threadCpu.other, r),
        perBeacon(r.cpuSeconds, r),
      ]),
  );
}

/**
 * Worker-thread CPU per acknowledged span at saturation, keep-all with version health off and on in the
 * same run, and the stage alone in the harness (the micro-bench has none of the load's noise).
 */
function versionHealthTable(run: RunReport): string {
  const of = (id: string, scenario: ScenarioName) =>
    run.results.find(
      (r) => r.contender === id && r.scenario === scenario && r.threads === run.results[0]?.threads,
    );
  const perSpan = (r: ScenarioResult | undefined) =>
    r && r.accepted > 0 ? (r.threadCpu.workers / r.accepted) * 1e6 : Number.NaN;
  const rows = (['steady', 'saturation'] as const).flatMap((scenario) => {
    const off = perSpan(of('relay', scenario));
    const on = perSpan(of('relay-health', scenario));
    return [
      [`worker threads, ${scenario}, version health off (µs/span)`, fmt(off, 3)],
      [`worker threads, ${scenario}, version health on (µs/span)`, fmt(on, 3)],
      [`added by version health, ${scenario} (µs/span)`, fmt(on - off, 3)],
    ];
  });
  for (const v of run.versionHealth ?? []) {
    rows.push([`stage alone: ${v.name} (µs/span)`, fmt(1e6 / v.spansPerSecond, 3)]);
  }
  return `${table(['measure', 'value'], rows)}

Keep-all edge-relay with version health off and on, in the same run: worker CPU divided by the spans each
run acknowledged. At the fixed (steady) rate both runs get the same load, so their difference is the
fairer reading; at saturation they also differ in throughput, batching and garbage collection, so that
difference is noisy. The stage alone times the counting of 512 bench spans (server and origin spans
counted, the rest skipped) in the harness, and is the most precise of the three.`;
}

function latencyTable(results: ScenarioResult[]): string {
  const rows = results
    .filter((r) => r.rate !== undefined)
    .map((r) => {
      const d = derive(r);
      return [
        r.label,
        r.scenario,
        fmt(d.beaconsPerSecond),
        ms(r.load.latency.p50),
        ms(r.load.latency.p99),
        ms(r.load.latency.p999),
        ms(r.load.latency.max),
        fmt(r.load.refused + r.load.errors),
        fmt(d.cpuPerMillionSpans, 1),
        fmt(d.lossPct, 2),
      ];
    });
  return table(
    [
      'contender',
      'scenario',
      'acked beacons/s',
      'p50 ms',
      'p99 ms',
      'p99.9 ms',
      'max ms',
      'refused/failed',
      'CPU s / M spans',
      'loss %',
    ],
    rows,
  );
}

function deliveryTable(results: ScenarioResult[]): string {
  const rows = results
    .filter((r) => r.sink)
    .map((r) => {
      const d = derive(r);
      const a = r.relay;
      const dropped = a
        ? Object.entries(a.dropped)
            .filter(([, n]) => n > 0)
            .map(([reason, n]) => `${reason} ${fmt(n)}`)
            .join(', ') || '0'
        : 'not counted';
      return [
        runLabel(r),
        r.scenario,
        fmt(d.sent),
        fmt(d.delivered),
        a ? fmt(a.exported) : '–',
        a ? fmt(a.sampledOut) : '–',
        dropped,
        a ? fmt(a.inFlight) : '–',
        fmt(d.lost),
        fmt(d.unaccounted),
        fmt(r.sink?.requests),
        fmt(d.bytesPerSpan, 1),
        `${fmt(r.drain.seconds, 1)}${r.drain.quiet ? '' : ' (gave up)'}`,
      ];
    });
  return table(
    [
      'contender',
      'scenario',
      'acked spans',
      'delivered',
      'relay: exported',
      'sampled out',
      'dropped (counted)',
      'in flight',
      'lost',
      'unaccounted',
      'export requests',
      'wire B/span',
      'drain s',
    ],
    rows,
  );
}

function encodeTable(rates: EncodeRate[]): string {
  const base = rates.find((r) => r.name.startsWith('otlp-transformer'));
  return table(
    ['encoder (batches of 512 spans)', 'spans/s', 'µs/span', 'bytes/span', '× otlp-transformer'],
    rates.map((r) => [
      r.name,
      fmt(r.spansPerSecond),
      fmt(1e6 / r.spansPerSecond, 2),
      fmt(r.bytesPerSpan, 1),
      base && r.name.includes('Encoder') ? fmt(r.spansPerSecond / base.spansPerSecond, 2) : '',
    ]),
  );
}

export function machineLine(m: Machine): string {
  return `${m.nproc} × ${m.cpuModel}, Node ${m.node}, Linux ${m.kernel}`;
}

export function formatReport(run: RunReport): string {
  const r = run.results;
  return `# edge-relay bench, ${run.date}${run.quick ? ' (quick run)' : ''}

${run.caveat ? `> **${run.caveat}**\n\n` : ''}Machine: ${machineLine(run.machine)}. ${run.pinning} edge-relay ran as \`${run.relayCommand}\`.

![throughput and latency](${run.chartFile})

## Goals (issue 7)

${goals(r, run.skipped).join('\n')}

## Throughput at saturation

Closed loop: autocannon, ${run.connections} connections, each sending its next beacon when the last is
answered, after an unmeasured warm-up of each contender. Ratios compare beacons acknowledged per second;
"by CPU" compares spans per CPU second of the server process instead, which contention from other jobs
on the machine disturbs far less. Latency is autocannon's response time of each
acknowledged beacon, kept at µs resolution; its own histogram (p50 / p99 / p99.9, whole ms) is shown
beside it. CPU is the server process's own user +
system time (all threads, /proc/<pid>/stat) over the run and its drain, per million acknowledged spans.
Load-gen CPU is the harness process's CPU (autocannon) as a share of one core: near 100, the load
generator rather than the server may be the limit.
Peak RSS is VmHWM${r.some((x) => x.peakRssSinceStart) ? ' (* since process start: the kernel refused a reset)' : ', reset before each scenario'}.

${throughputTable(r)}

### Where the CPU goes (µs of CPU per acknowledged beacon, saturation)

The main thread is the ack path; worker threads hold, sample, encode and export; other threads are V8's
garbage collector and compiler helpers and the libuv pool (where gzip runs). From /proc/<pid>/task;
the kernel apportions each thread separately, so the parts need not add up exactly to the whole.

${threadTable(r)}

## Ack latency at a fixed rate

Open loop at ${fmt(run.steadyRate)} beacons/s for every contender (half the saturating rate of
${run.steadyRateFrom}), spread evenly over each second; latency runs from each beacon's scheduled send time, so
stalls are charged to every beacon queued behind them. "slow backend": the sink answers every export
after 200 ms. "backend down": the sink answers 503 for the middle third of the run.

${latencyTable(r)}

## Delivery and accounting

Acked spans are the server's own count of acknowledged spans. Delivered spans are counted by the sink
in the bytes it received (a protobuf tag walk after gunzip). After each run the bench waits, bounded,
until the contender has finished delivering: for edge-relay, until /metrics shows an outcome (exported,
dropped or sampled out) for every accepted span; for all, until the sink has seen no request for 0.3 s.
Lost = acked − sampled out − delivered; unaccounted = lost − dropped (counted by reason) − in flight.
The SDK relay counts nothing, so all of its loss is unaccounted.

${deliveryTable(r)}

## Version health: added worker CPU per span

${versionHealthTable(run)}

## OTLP encoding (micro-bench, harness process)

${encodeTable(run.encode)}
${
  run.skipped.length
    ? `\n## Skipped\n\n${run.skipped.map((s) => `- ${s.label}: ${s.reason}`).join('\n')}\n`
    : ''
}`;
}
