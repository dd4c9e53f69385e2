// The long fuzz pass (`npm run fuzz`): structure-aware hostile bodies for both routes and both
// encodings, posted over loopback to a real relay process that exports to a backend that takes
// everything. Counts crashes, 5xx answers, answers slower than 2 s and bodies taken that a worker
// could not read (checked here, as a worker reads them); keeps every case that caused one under
// test/fixtures/fuzz-regressions/ (the short pass in `npm test` replays them); checks the accounting
// identity at the end and how far memory comes back down. Bounded in cases and in time:
//   node test/fuzz/long-pass.ts [--cases 100000] [--max-seconds 3600] [--concurrency 16] [--seed N]
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { SHARED_METRICS } from '../../src/telemetry/shared-metrics.ts';
import { faultConfig } from '../support/fault-config.ts';
import { seeded } from '../support/fuzz-cases.ts';
import { keepRegression, type RoutedCase, TARGETS } from '../support/fuzz-targets.ts';
import { metricValue } from '../support/prometheus-text.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { workerProblem } from '../support/worker-oracle.ts';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '100000' },
    'max-seconds': { type: 'string', default: '3600' },
    concurrency: { type: 'string', default: '16' },
    seed: { type: 'string', default: '20261201' },
  },
});
const CASES = Number(values.cases);
const DEADLINE = Date.now() + Number(values['max-seconds']) * 1000;
const CONCURRENCY = Number(values.concurrency);
const SEED = Number(values.seed);
const SLOW_MS = 2000;
const ABORT_MS = 10_000;
const MIB = 1024 * 1024;
/** Where the main thread's heap must be back under after the run (it is ~20 MiB idle). */
const HEAP_BOUND = 64 * MIB;

/** The backend: takes every export and keeps nothing, so that the fuzzer's memory stays flat. */
async function discardingBackend(): Promise<{ url: string; close: () => void }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    close: () => server.close(),
  };
}

interface Tally {
  cases: number;
  statuses: Map<number, number>;
  serverErrors: number;
  slow: number;
  crashes: number;
  /** Taken (2xx) but not readable the way a worker reads what it is handed. */
  workerFailures: number;
  maxMs: number;
  kept: string[];
}

const backend = await discardingBackend();
const config = faultConfig(backend.url);
let relay = await RelayProcess.start(config);

type Outcome = { status: number; ms: number } | { error: string; ms: number };

async function post(fuzz: RoutedCase): Promise<Outcome> {
  const started = performance.now();
  try {
    const response = await fetch(`${relay.url}${fuzz.route}`, {
      method: 'POST',
      headers: fuzz.headers,
      body: fuzz.body,
      signal: AbortSignal.timeout(ABORT_MS),
    });
    await response.arrayBuffer();
    return { status: response.status, ms: performance.now() - started };
  } catch (err) {
    return { error: (err as Error).message, ms: performance.now() - started };
  }
}

const alive = (): boolean => relay.child.exitCode === null && relay.child.signalCode === null;

/** After a crash: replays the cases that were in flight, one at a time on a fresh relay, to find the one. */
async function findKiller(suspects: RoutedCase[], tally: Tally): Promise<void> {
  relay = await RelayProcess.start(config);
  for (const fuzz of suspects) {
    await post(fuzz);
    await new Promise((resolve) => setTimeout(resolve, 200));
    if (alive()) continue;
    tally.kept.push(keepRegression(fuzz, `long fuzz pass: killed the relay (${fuzz.kind})`));
    relay = await RelayProcess.start(config);
  }
}

async function runTarget(name: string): Promise<Tally> {
  const make = TARGETS[name] as (typeof TARGETS)[string];
  const random = seeded(SEED + name.length * 7919 + name.charCodeAt(0));
  const tally: Tally = {
    cases: 0,
    statuses: new Map(),
    serverErrors: 0,
    slow: 0,
    crashes: 0,
    workerFailures: 0,
    maxMs: 0,
    kept: [],
  };
  const inFlight = new Set<RoutedCase>();
  let next = 0;
  let crashed: RoutedCase[] | undefined;
  const lane = async () => {
    while (next < CASES && Date.now() < DEADLINE && !crashed) {
      next++;
      const fuzz = make(random);
      inFlight.add(fuzz);
      const outcome = await post(fuzz);
      inFlight.delete(fuzz);
      tally.cases++;
      tally.maxMs = Math.max(tally.maxMs, outcome.ms);
      if ('error' in outcome) {
        if (!alive() && !crashed) crashed = [fuzz, ...inFlight];
        else if (alive())
          tally.kept.push(keepRegression(fuzz, `long fuzz pass: no answer (${outcome.error})`));
        continue;
      }
      tally.statuses.set(outcome.status, (tally.statuses.get(outcome.status) ?? 0) + 1);
      const unread = outcome.status < 300 ? workerProblem(fuzz) : undefined;
      if (unread !== undefined) {
        tally.workerFailures++;
        tally.kept.push(keepRegression(fuzz, `long fuzz pass: taken, but ${unread} (${fuzz.kind})`));
      }
      if (outcome.status >= 500) {
        tally.serverErrors++;
        tally.kept.push(keepRegression(fuzz, `long fuzz pass: answered ${outcome.status} (${fuzz.kind})`));
      }
      if (outcome.ms > SLOW_MS) {
        tally.slow++;
        const found = `long fuzz pass: answered ${outcome.status} after ${Math.round(outcome.ms)} ms (${fuzz.kind})`;
        tally.kept.push(keepRegression(fuzz, found, outcome.status));
      }
    }
  };
  for (;;) {
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    if (!crashed) return tally;
    tally.crashes++;
    await findKiller(crashed, tally);
    crashed = undefined;
  }
}

async function scrape(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${relay.adminPort}/metrics`)).text();
}

/** The identity's two sides, waited for until nothing is in flight (at most a minute). */
async function settle(): Promise<{ received: number; settled: number; inFlight: number; dropped: object }> {
  const until = Date.now() + 60_000;
  for (;;) {
    const text = await scrape();
    const dropped = Object.fromEntries(
      SHARED_METRICS.spansDropped.values
        .map((reason) => [reason, metricValue(text, 'edge_relay_spans_dropped_total', { reason })])
        .filter(([, n]) => n !== 0),
    );
    const received = metricValue(text, 'edge_relay_spans_received_total', { result: 'accepted' });
    const settled =
      metricValue(text, 'edge_relay_spans_exported_total') +
      metricValue(text, 'edge_relay_spans_sampled_out_total') +
      Object.values(dropped).reduce((a: number, b) => a + (b as number), 0);
    const inFlight = metricValue(text, 'edge_relay_spans_in_flight');
    if ((inFlight === 0 && received === settled) || Date.now() > until)
      return { received, settled, inFlight, dropped };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const started = Date.now();
const results: Record<string, Tally> = {};
for (const name of Object.keys(TARGETS)) {
  results[name] = await runTarget(name);
  const t = results[name];
  console.log(
    `${name}: ${t.cases} cases, ${t.crashes} crashes, ${t.serverErrors} 5xx, ${t.slow} over ${SLOW_MS} ms, ` +
      `${t.workerFailures} a worker could not read ` +
      `(slowest ${Math.round(t.maxMs)} ms), statuses ${JSON.stringify(Object.fromEntries(t.statuses))}`,
  );
}
const accounting = await settle();
const memory = async () => {
  const text = await scrape();
  return {
    rss: metricValue(text, 'process_resident_memory_bytes'),
    heap: metricValue(text, 'nodejs_heap_size_used_bytes'),
  };
};
const atEnd = await memory();
// Heap falls once garbage is collected; the main thread collects on its own when idle, so wait a little.
const settleUntil = Date.now() + 30_000;
let after = atEnd;
while (after.heap > HEAP_BOUND && Date.now() < settleUntil) {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  after = await memory();
}
const errors = relay.logLines().filter((line) => (line.level as number) >= 50);
const summary = {
  seconds: Math.round((Date.now() - started) / 1000),
  seed: SEED,
  perTarget: Object.fromEntries(
    Object.entries(results).map(([name, t]) => [
      name,
      {
        cases: t.cases,
        crashes: t.crashes,
        serverErrors: t.serverErrors,
        slow: t.slow,
        workerFailures: t.workerFailures,
        slowestMs: Math.round(t.maxMs),
      },
    ]),
  ),
  accounting: { ...accounting, unaccounted: accounting.received - accounting.settled - accounting.inFlight },
  memoryMiB: {
    rssAtEnd: Math.round(atEnd.rss / MIB),
    heapAtEnd: Math.round(atEnd.heap / MIB),
    heapAfter: Math.round(after.heap / MIB),
    heapBound: HEAP_BOUND / MIB,
  },
  errorLogLines: errors.length,
  kept: Object.values(results).flatMap((t) => t.kept),
};
console.log(JSON.stringify(summary, null, 2));
const failed =
  Object.values(results).some((t) => t.crashes + t.serverErrors + t.slow + t.workerFailures > 0) ||
  summary.accounting.unaccounted !== 0 ||
  'decode_failed' in accounting.dropped ||
  'worker_crashed' in accounting.dropped ||
  after.heap > HEAP_BOUND ||
  errors.length > 0;
console.log(failed ? 'FAILED' : 'passed');
await relay.stop();
backend.close();
process.exit(failed ? 1 : 0);
