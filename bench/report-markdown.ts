import type { EncodeRate } from './encode-bench.ts';
import { goals } from './goals.ts';
import {
  cpuRatio,
  derive,
  fmt,
  machineLine,
  type RunReport,
  ratio,
  runLabel,
  saturation,
  table,
} from './report.ts';
import type { SamplerBench } from './sampler-bench.ts';
import type { ScenarioName, ScenarioResult } from './scenario.ts';
import { projectionTable, threadTable } from './thread-report.ts';

// The markdown report of a run: its tables and what they mean.

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

function validateTable(rates: EncodeRate[]): string {
  const base = rates.find((r) => r.name.startsWith('ajv'));
  return `${table(
    ['validator (6-span bench beacons)', 'beacons/s', 'µs/beacon', '× ajv'],
    rates.map((r) => [
      r.name,
      fmt(r.spansPerSecond),
      fmt(1e6 / r.spansPerSecond, 2),
      base ? fmt(r.spansPerSecond / base.spansPerSecond, 2) : '',
    ]),
  )}

The acking thread's check of a parsed beacon: the relay's walk, hand-written from the schema, against ajv
compiled from that schema (the walk's test oracle), over the same 1,000 beacons in alternating rounds.`;
}

/** The sampling shard against one keeping everything, and what holding and deciding add per span. */
function samplerTable({ rates, keptShare }: SamplerBench): string {
  const [sampled, keepAll] = rates.map((r) => 1e6 / r.spansPerSecond) as [number, number];
  // Kept beacons are read as keep-all reads every one; the rest of the sampling path is hold and decide.
  const decide = sampled - keptShare * keepAll;
  return `${table(
    ['a shard, up to the batch processor (6-span bench beacons)', 'µs/span', '× keeping everything'],
    [
      ...rates.map((r) => [r.name, fmt(1e6 / r.spansPerSecond, 3), fmt(1e6 / r.spansPerSecond / keepAll, 2)]),
      [
        `hold and decide alone: the first less ${fmt(100 * keptShare, 1)}% (kept) of the second (budget 1 µs/span)`,
        fmt(decide, 3),
        fmt(decide / keepAll, 2),
      ],
    ],
  )}

One shard's intake and tail sampler on a manual clock moving as 10,000 beacons a second would, with
decision_wait's worth of traces held, fed hand-off messages of 64 beacons; not encoded or sent.`;
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

export function formatReport(run: RunReport): string {
  const r = run.results;
  const projection = projectionTable(r);
  return `# edge-relay bench, ${run.date}${run.quick ? ' (quick run)' : ''}

${run.caveat ? `> **${run.caveat}**\n\n` : ''}Machine: ${machineLine(run.machine)}. ${run.pinning} edge-relay ran as \`${run.relayCommand}\`.

![throughput and latency](${run.chartFile})

## Goals (issue 19)

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

The acking thread is the main thread with one receiver, else the receiver threads together (each beacon
is taken by one of them, so this is also the CPU per beacon on the thread that took it); the supervisor
is the main thread when receiver threads acknowledge. Worker threads hold, sample, encode and export;
other threads are V8's helpers and the libuv pool (where gzip runs). From /proc/<pid>/task; the kernel
apportions each thread separately, so the parts need not add up exactly to the whole.

${threadTable(r)}
${
  projection
    ? `
### Projected ceiling per core count (beacons/s)

From the CPU per beacon above, with the default thread counts for each core count: the least of all
cores' CPU over the whole per-beacon cost, the receiver threads each on a core of their own, and the
shards'. It assumes threads scale linearly onto cores of their own and nothing else runs there; the
bare handlers are single-threaded, so theirs is as many copies as cores behind one port.

${projection}
`
    : ''
}
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
  run.validate
    ? `\n## Beacon validation (micro-bench, harness process)\n\n${validateTable(run.validate)}\n`
    : ''
}${
  run.sampler
    ? `\n## Tail sampling in a shard (micro-bench, harness process)\n\n${samplerTable(run.sampler)}\n`
    : ''
}${
  run.skipped.length
    ? `\n## Skipped\n\n${run.skipped.map((s) => `- ${s.label}: ${s.reason}`).join('\n')}\n`
    : ''
}`;
}
