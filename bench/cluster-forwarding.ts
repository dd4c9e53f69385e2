// The cost of peer forwarding: throughput and CPU per span with 1, 2 and 3 relay replicas on this
// machine, beacons sent to random replicas (so (n-1)/n of spans are forwarded once). Run with
//   node bench/cluster-forwarding.ts            (CLUSTER_BENCH_SECONDS=8 by default per configuration)
// Every replica runs on the same cores, so absolute throughput does not grow with n here; what carries
// over to N machines is the CPU per span, and the share of it spent forwarding.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { randomTraceId } from '../test/support/ids.ts';

interface LoadResult {
  requests: { total: number };
  non2xx: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<LoadResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const SECONDS = Number(process.env.CLUSTER_BENCH_SECONDS ?? 8);
const CONNECTIONS = 12;
const IDLE_MS = 4000;
const SPANS_PER_BEACON = 6;
const CLI = new URL('../src/cli.ts', import.meta.url).pathname;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** A backend that accepts everything at once: the bench measures the relays, not the sink. */
async function startSink(): Promise<{ url: string; close(): void }> {
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/v1/traces`, close: () => server.close() };
}

interface Replica {
  child: ChildProcess;
  url: string;
  admin: string;
}

async function startReplicas(n: number, clustered: boolean, sinkUrl: string): Promise<Replica[]> {
  const ports = await Promise.all(Array.from({ length: 2 * n }, freePort));
  const urls = ports.slice(0, n).map((port) => `http://127.0.0.1:${port}`);
  const dir = mkdtempSync(join(tmpdir(), 'cluster-bench-'));
  const replicas = urls.map((url, i) => {
    const file = join(dir, `relay-${i}.yaml`);
    writeFileSync(
      file,
      stringify({
        receiver: { endpoint: url.replace('http://', '') },
        admin: { endpoint: `127.0.0.1:${ports[n + i]}` },
        log: { level: 'warn' },
        workers: { threads: 1 },
        exporter: { traces_endpoint: sinkUrl },
        ...(clustered ? { cluster: { self: url, peers: urls } } : {}),
      }),
    );
    const child = spawn(process.execPath, [CLI, '--config', file], { stdio: 'ignore' });
    return { child, url, admin: `http://127.0.0.1:${ports[n + i]}` };
  });
  const deadline = Date.now() + 180_000;
  for (const replica of replicas) {
    for (;;) {
      const ready = await fetch(`${replica.admin}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`${replica.url} did not become ready`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  // Until every replica sees the others, spans would stay where they land: wait for the full view.
  while (clustered) {
    const views = await Promise.all(replicas.map((r) => metric(r, 'edge_relay_cluster_members')));
    if (views.every((members) => members === n)) break;
    if (Date.now() > deadline) throw new Error('replicas did not see each other');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return replicas;
}

async function metric(replica: Replica, name: string, label = ''): Promise<number> {
  const text = await (await fetch(`${replica.admin}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}${label} `) || l.startsWith(`${name}${label}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const sum = async (replicas: Replica[], name: string, label = '') =>
  (await Promise.all(replicas.map((r) => metric(r, name, label)))).reduce((a, b) => a + b, 0);

const beaconTemplate = JSON.stringify({
  v: 1,
  traceId: 'TRACE_ID_PLACEHOLDER_0000000000000',
  ts: Date.now(),
  worker: { id: '42817', version: '1.4.2' },
  edge: { ip: '203.0.113.7', pop: 'FRA' },
  service: 'bench-edge',
  spans: Array.from({ length: SPANS_PER_BEACON }, (_, i) => ({
    id: `${i + 1}`.padStart(16, '0'),
    ...(i > 0 ? { parent: '0000000000000001' } : {}),
    name: `span ${i}`,
    start: i,
    dur: 1,
    attrs: { 'http.request.method': 'GET', 'url.path': '/product/1234' },
  })),
});

interface Row {
  replicas: number;
  clustered: boolean;
  beaconsPerSecond: number;
  spansPerSecond: number;
  cpuSecondsPerMillionSpans: number;
  forwardedShare: number;
}

async function measure(n: number, clustered: boolean): Promise<Row> {
  const sink = await startSink();
  const replicas = await startReplicas(n, clustered, sink.url);
  try {
    // What the replicas burn doing nothing (timers, probes, metrics) is not forwarding: measured over an
    // idle window and subtracted, since at the low rates of a shared machine it is not negligible.
    const idleStart = await sum(replicas, 'process_cpu_seconds_total');
    const idleFrom = performance.now();
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const idlePerMs =
      ((await sum(replicas, 'process_cpu_seconds_total')) - idleStart) / (performance.now() - idleFrom);
    const cpuBefore = await sum(replicas, 'process_cpu_seconds_total');
    const loadFrom = performance.now();
    const results = await Promise.all(
      replicas.map((replica) =>
        autocannon({
          url: `${replica.url}/v1/beacons`,
          method: 'POST',
          connections: Math.max(1, Math.round(CONNECTIONS / n)),
          duration: SECONDS,
          requests: [
            {
              setupRequest: (request: Record<string, unknown>) => {
                const traceId = randomTraceId();
                return {
                  ...request,
                  headers: { 'content-type': 'application/json', 'x-edge-relay-trace-id': traceId },
                  body: beaconTemplate.replace('TRACE_ID_PLACEHOLDER_0000000000000', traceId),
                };
              },
            },
          ],
        }),
      ),
    );
    // Let forwarding and export finish before reading CPU, so the work of every accepted span counts.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const cpu =
      (await sum(replicas, 'process_cpu_seconds_total')) -
      cpuBefore -
      idlePerMs * (performance.now() - loadFrom);
    const accepted = results.reduce((total, r) => total + r.requests.total - r.non2xx, 0);
    const spans = accepted * SPANS_PER_BEACON;
    const forwarded = await sum(replicas, 'edge_relay_cluster_spans_forwarded_total');
    return {
      replicas: n,
      clustered,
      beaconsPerSecond: Math.round(accepted / SECONDS),
      spansPerSecond: Math.round(spans / SECONDS),
      cpuSecondsPerMillionSpans: Number(((cpu / spans) * 1e6).toFixed(2)),
      forwardedShare: Number((forwarded / spans).toFixed(3)),
    };
  } finally {
    for (const replica of replicas) replica.child.kill('SIGTERM');
    await Promise.all(replicas.map((replica) => once(replica.child, 'exit')));
    sink.close();
  }
}

// Each clustered run is compared with as many independent replicas (no cluster, nothing forwarded) on
// the same machine: the same processes compete for the same cores, so the difference in CPU per span
// is the forwarding alone, not the cost of running more processes on two cores.
const rows: Row[] = [await measure(1, false)];
for (const n of [2, 3]) rows.push(await measure(n, false), await measure(n, true));
console.table(
  rows.map((row) => {
    const alone = rows.find((r) => r.replicas === row.replicas && !r.clustered) as Row;
    const extra = row.cpuSecondsPerMillionSpans - alone.cpuSecondsPerMillionSpans;
    return {
      ...row,
      // Extra CPU per span over independent replicas is forwarding: encode, send, receive, decode again.
      cpuShareForwarding: Number((extra / row.cpuSecondsPerMillionSpans).toFixed(3)),
      cpuPerForwardedSpanUs: row.forwardedShare > 0 ? Number((extra / row.forwardedShare).toFixed(2)) : 0,
    };
  }),
);
