import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BeaconFactory } from './beacons.ts';
import { chartSvg } from './chart.ts';
import { CONTENDERS, type Contender, type ContenderId, relayCommand, useRelay } from './contenders.ts';
import { encodeBench } from './encode-bench.ts';
import { readmeSummary, updateReadme } from './readme-summary.ts';
import { derive, fmt, type Machine, type RunReport } from './report.ts';
import { formatReport } from './report-markdown.ts';
import { samplerBench } from './sampler-bench.ts';
import { runScenario, type ScenarioName, type ScenarioResult } from './scenario.ts';
import { SinkClient } from './sink-client.ts';
import { validateBench } from './validate-bench.ts';
import { versionHealthBench } from './version-health-bench.ts';

// npm run bench [-- --quick] [--readme] [--caveat "why these numbers are shaky"] [--relay path/to/cli]
//   [--relay-node-option=--max-semi-space-size=32 ...] [--only relay,relay-r2,ceiling,ceiling-http]
// Runs every contender through every scenario on 127.0.0.1 and writes bench/results/<date>.md + .svg.

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    readme: { type: 'boolean', default: false },
    caveat: { type: 'string' },
    relay: { type: 'string' },
    'relay-node-option': { type: 'string', multiple: true },
    // Contender ids to run, in this order, e.g. to compare two relay configs back to back.
    only: { type: 'string' },
  },
});
const quick = args.quick;
useRelay(args.relay && resolve(args.relay), args['relay-node-option'] ?? []);

const PLAN = quick
  ? { warmup: 0.5, drain: 12, encode: 0.3, connections: 64 }
  : { warmup: 3, drain: 30, encode: 2, connections: 64 };
const SECONDS: Record<ScenarioName, number> = quick
  ? { saturation: 1.5, steady: 1.5, 'slow backend': 1.5, 'backend down': 2 }
  : { saturation: 15, steady: 15, 'slow backend': 15, 'backend down': 20 };

const SCENARIOS: Record<ContenderId, ScenarioName[]> = {
  relay: ['saturation', 'steady', 'slow backend', 'backend down'],
  'relay-r2': ['saturation', 'steady'],
  'relay-wal': quick ? ['saturation', 'steady'] : ['saturation', 'steady', 'slow backend'],
  'relay-sampled': quick ? ['saturation', 'steady'] : ['saturation', 'steady', 'slow backend'],
  'relay-health': ['saturation', 'steady'],
  ceiling: ['saturation', 'steady'],
  'ceiling-http': ['saturation', 'steady'],
  sdk: ['saturation', 'steady', 'slow backend', 'backend down'],
};

function machine(): Machine {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  return { nproc: cpus().length, cpuModel: model, node: process.version, kernel: release() };
}

/** Load generator and sink on the lower half of the CPUs, the measured server on the upper half. */
function pinCpus(n: number): { harness?: string; server?: string; text: string } {
  if (n < 2) return { text: 'Not pinned: one CPU, shared by load generator, sink and server.' };
  const half = Math.floor(n / 2);
  const harness = half === 1 ? '0' : `0-${half - 1}`;
  const server = half === n - 1 ? `${half}` : `${half}-${n - 1}`;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', harness, String(process.pid)], { stdio: 'ignore' });
  } catch {
    return { text: 'Not pinned: taskset failed.' };
  }
  return {
    harness,
    server,
    text:
      `Pinned with taskset: load generator (autocannon / open-loop client), sink and micro-bench on CPU ${harness}; ` +
      `the server under test (every contender, all its threads) on CPU ${server}, so each contender gets the same ` +
      'cores and the load generator never competes with it.',
  };
}

const log = (line: string) => console.log(line);

function progress(r: ScenarioResult): string {
  const d = derive(r);
  return (
    `  ${r.scenario.padEnd(13)} ${fmt(d.beaconsPerSecond).padStart(7)} beacons/s  p99 ${fmt(r.load.latency.p99, 2)} ms` +
    `  refused ${fmt(r.load.refused)}  loss ${fmt(d.lossPct, 2)}%  unaccounted ${fmt(d.unaccounted)}` +
    `  drain ${fmt(r.drain.seconds, 1)} s${r.drain.quiet ? '' : ' (gave up)'}`
  );
}

const errorLine = (err: unknown): string =>
  ((err as Error).message ?? String(err))
    .split('\n')
    .find((l) => /invalid configuration|Error|error/.test(l)) ??
  String(err).split('\n')[0] ??
  'unknown error';

async function main(): Promise<void> {
  const started = Date.now();
  const host = machine();
  const pins = pinCpus(host.nproc);
  const serverCpuCount = pins.server ? host.nproc - Math.floor(host.nproc / 2) : host.nproc;
  log(`edge-relay bench${quick ? ' (quick)' : ''}: ${pins.text}`);

  const beacons = new BeaconFactory();
  const encode = encodeBench(beacons, PLAN.encode);
  for (const e of encode)
    log(`  encode: ${e.name}: ${fmt(e.spansPerSecond)} spans/s, ${fmt(e.bytesPerSpan, 1)} B/span`);
  const versionHealth = versionHealthBench(beacons, PLAN.encode);
  for (const v of versionHealth) log(`  ${v.name}: ${fmt(1e6 / v.spansPerSecond, 3)} µs/span`);
  const validate = validateBench(beacons, PLAN.encode);
  for (const v of validate) log(`  ${v.name}: ${fmt(1e6 / v.spansPerSecond, 2)} µs/beacon`);
  const sampler = samplerBench(beacons, PLAN.encode);
  for (const v of sampler.rates) log(`  ${v.name}: ${fmt(1e6 / v.spansPerSecond, 3)} µs/span`);

  const sink = await SinkClient.start(pins.harness);
  const results: ScenarioResult[] = [];
  const skipped: RunReport['skipped'] = [];
  let steadyRate = 0;
  let steadyRateFrom = '';

  const runContender = async (contender: Contender, threads: number, scenarios: ScenarioName[]) => {
    log(`${contender.label}${contender.id.startsWith('relay') ? `, ${threads} worker thread(s)` : ''}:`);
    let target: Awaited<ReturnType<Contender['start']>>;
    try {
      target = await contender.start(sink.tracesUrl, pins.server, threads);
    } catch (err) {
      skipped.push({ label: contender.label, reason: `did not start: ${errorLine(err)}` });
      log(`  skipped: ${errorLine(err)}`);
      return;
    }
    try {
      // Unmeasured: every contender's code is compiled and its pools filled before the first number.
      const warmup = {
        name: 'saturation',
        seconds: PLAN.warmup,
        connections: PLAN.connections,
        drainSeconds: PLAN.drain,
      } as const;
      await runScenario(contender, target, threads, sink, beacons, warmup);
      for (const name of scenarios) {
        const spec = {
          name,
          seconds: SECONDS[name],
          connections: PLAN.connections,
          drainSeconds: PLAN.drain,
          ...(name === 'saturation' ? {} : { rate: steadyRate }),
        };
        const result = await runScenario(contender, target, threads, sink, beacons, spec);
        results.push(result);
        log(progress(result));
        if (steadyRate === 0 && name === 'saturation') {
          steadyRate = Math.round(derive(result).beaconsPerSecond / 2);
          steadyRateFrom = contender.label;
        }
      }
    } catch (err) {
      // A contender that fails mid-way (a crash, a refused connection) loses its remaining scenarios only.
      skipped.push({ label: contender.label, reason: `failed: ${errorLine(err)}` });
      log(`  failed: ${errorLine(err)}\n  its output ended with:\n${target.process.output.slice(-2000)}`);
    } finally {
      await target.process.stop();
    }
  };

  // edge-relay first: half its saturating rate is the fixed rate every contender gets.
  const only = args.only?.split(',');
  // In the order given: the first one's saturating rate, halved, is the fixed rate; which runs first matters.
  const chosen = only
    ? CONTENDERS.filter((c) => only.includes(c.id)).sort((a, b) => only.indexOf(a.id) - only.indexOf(b.id))
    : CONTENDERS;
  for (const contender of chosen) await runContender(contender, serverCpuCount, SCENARIOS[contender.id]);
  const relay = CONTENDERS.find((c) => c.id === 'relay') as Contender;
  const threadCounts = Array.from({ length: Math.max(2, serverCpuCount) }, (_, i) => i + 1).filter(
    (t) => t !== serverCpuCount,
  );
  for (const threads of threadCounts.slice(0, only ? 0 : quick ? 1 : 4))
    await runContender(relay, threads, ['saturation']);
  await sink.process.stop();

  const date = new Date().toISOString().slice(0, 10);
  const name = `${date}${quick ? '-quick' : ''}`;
  const caveat = [
    quick ? `Quick run (${SECONDS.saturation} s per scenario): proves the harness, not the numbers.` : '',
    args.caveat ?? '',
  ]
    .filter(Boolean)
    .join(' ');
  const run: RunReport = {
    date,
    quick,
    ...(caveat ? { caveat } : {}),
    machine: host,
    relayCommand: relayCommand(),
    pinning: pins.text,
    connections: PLAN.connections,
    steadyRate,
    steadyRateFrom,
    encode,
    versionHealth,
    validate,
    sampler,
    results,
    skipped,
    chartFile: `${name}.svg`,
  };
  const resultsDir = new URL('results/', import.meta.url);
  writeFileSync(new URL(`${name}.svg`, resultsDir), chartSvg(results));
  writeFileSync(new URL(`${name}.md`, resultsDir), formatReport(run));
  writeFileSync(new URL(`${name}.json`, resultsDir), `${JSON.stringify(run, null, 2)}\n`);
  if (args.readme || !quick) {
    updateReadme(
      new URL('../README.md', import.meta.url).pathname,
      readmeSummary(run, `bench/results/${name}.md`),
    );
  }
  log(`wrote bench/results/${name}.md, .svg and .json in ${fmt((Date.now() - started) / 1000)} s`);
}

await main();
