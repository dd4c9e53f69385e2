import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse, stringify } from 'yaml';
import { BenchProcess } from './bench-process.ts';
import { readAccounting } from './relay-accounting.ts';

// The servers the bench compares, each started as its own process on the server CPUs.

export type ContenderId =
  | 'ceiling'
  | 'ceiling-http'
  | 'sdk'
  | 'relay'
  | 'relay-r2'
  | 'relay-wal'
  | 'relay-sampled'
  | 'relay-health';

export interface Target {
  readonly process: BenchProcess;
  /** Port that takes POST /v1/beacons. */
  readonly port: number;
  /** Spans the server has acknowledged since it started. */
  acceptedSpans(): Promise<number>;
  /** The relay's /metrics text. */
  scrape?(): Promise<string>;
  /** Asks the server to send what it holds now (the SDK's forceFlush). */
  flush?(signal: AbortSignal): Promise<void>;
}

export interface Contender {
  readonly id: ContenderId;
  readonly label: string;
  /** Delivers spans to the sink (the ceiling does not). */
  readonly delivers: boolean;
  start(sinkUrl: string, cpus: string | undefined, threads: number): Promise<Target>;
}

const here = (path: string): string => new URL(path, import.meta.url).pathname;

async function startPeer(
  name: string,
  script: string,
  args: string[],
  cpus: string | undefined,
): Promise<Target> {
  const process = await BenchProcess.start({
    name,
    script: here(script),
    args,
    cpus,
    isReady: (l) => l.msg === 'ready',
  });
  const port = process.port();
  return {
    process,
    port,
    async acceptedSpans() {
      return ((await (await fetch(`http://127.0.0.1:${port}/accepted`)).json()) as { spans: number }).spans;
    },
    async flush(signal) {
      await fetch(`http://127.0.0.1:${port}/flush`, { method: 'POST', signal });
    },
  };
}

/**
 * The relay's config for the bench: loopback ports, the sink as backend, gzip on (the default), one
 * receiver (on the main thread) unless `receivers` says more; with `walDirectory`, acknowledged only
 * once in the write-ahead log there (receiver.durability: wal); with `versionHealth`, RED metrics
 * counted from every span; `decisionWait` replaces the realistic policies' decision_wait.
 */
export function relayConfig(
  sinkUrl: string,
  threads: number,
  policies: boolean,
  options: { walDirectory?: string; versionHealth?: boolean; receivers?: number; decisionWait?: string } = {},
): Record<string, unknown> {
  const { walDirectory, versionHealth = false, receivers = 1, decisionWait } = options;
  const sampling = policies && realisticPolicies();
  if (sampling && decisionWait) sampling.tail_sampling.decision_wait = decisionWait;
  const durability = walDirectory ? { durability: 'wal', wal: { directory: walDirectory } } : {};
  return {
    receiver: { endpoint: '127.0.0.1:0', threads: receivers, ...durability },
    admin: { endpoint: '127.0.0.1:0' },
    // info: the relay says it is ready at info level; it logs nothing per beacon.
    log: { level: 'info' },
    workers: { threads },
    exporter: { traces_endpoint: sinkUrl, compression: 'gzip' },
    ...(sampling || {}),
    ...(versionHealth ? { version_health: {} } : {}),
  };
}

interface RealisticPolicies {
  tail_sampling: { decision_wait: string } & Record<string, unknown>;
}

/** The bench's "realistic" policy set (realistic-policies.yaml), as the relay's config takes it. */
export const realisticPolicies = (): RealisticPolicies =>
  parse(readFileSync(here('realistic-policies.yaml'), 'utf8')) as RealisticPolicies;

let relayConfigDir: string | undefined;

/** One temporary directory for the run's relay configs, removed when the harness exits. */
function configDir(): string {
  if (!relayConfigDir) {
    const dir = mkdtempSync(join(tmpdir(), 'edge-relay-bench-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    relayConfigDir = dir;
  }
  return relayConfigDir;
}

let relayCli = here('../src/cli.ts');
/** The node options the relay ships with (bin/edge-relay and the Dockerfile), unless the run names others. */
const SHIPPED_NODE_OPTIONS = ['--v8-pool-size=0'];
let relayNodeOptions = SHIPPED_NODE_OPTIONS;

/**
 * Runs another build of the relay (e.g. dist/cli.js after `npm run build`, or another checkout), or the
 * same one with other node options, to compare a change before and after.
 */
export function useRelay(cli: string | undefined, nodeOptions: string[]): void {
  if (cli) relayCli = cli;
  if (nodeOptions.length > 0) relayNodeOptions = nodeOptions;
}

/** The relay's command line as the report shows it. */
export const relayCommand = (): string =>
  [
    'node',
    ...relayNodeOptions,
    relative(process.cwd(), relayCli) || relayCli,
    '--config <bench config>',
  ].join(' ');

/** Starts the relay on `config`: this checkout's (or useRelay's), or the build at `cli`. */
export async function startRelay(
  config: Record<string, unknown>,
  cpus: string | undefined,
  cli = relayCli,
): Promise<Target> {
  const file = join(configDir(), `relay-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(config));
  const relay = await BenchProcess.start({
    name: 'edge-relay',
    script: cli,
    nodeOptions: relayNodeOptions,
    args: ['--config', file],
    cpus,
    isReady: (l) => l.msg === 'edge-relay is ready',
    timeoutMs: 30_000,
  });
  const admin = relay.port('admin');
  const scrape = async () => (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
  return {
    process: relay,
    port: relay.port('receiver'),
    scrape,
    async acceptedSpans() {
      return readAccounting(await scrape()).accepted;
    },
  };
}

export const CONTENDERS: readonly Contender[] = [
  {
    id: 'relay',
    label: 'edge-relay, keep all',
    delivers: true,
    start: (sink, cpus, threads) => startRelay(relayConfig(sink, threads, false), cpus),
  },
  {
    id: 'relay-r2',
    label: 'edge-relay, keep all, 2 receiver threads',
    delivers: true,
    start: (sink, cpus, threads) => startRelay(relayConfig(sink, threads, false, { receivers: 2 }), cpus),
  },
  {
    id: 'relay-wal',
    label: 'edge-relay, keep all, WAL',
    delivers: true,
    // A fresh log per start, on the same disk as the run's configs (the temporary directory).
    start: (sink, cpus, threads) =>
      startRelay(
        relayConfig(sink, threads, false, { walDirectory: join(configDir(), `wal-${Date.now()}`) }),
        cpus,
      ),
  },
  {
    id: 'relay-sampled',
    label: 'edge-relay, realistic policies',
    delivers: true,
    start: (sink, cpus, threads) => startRelay(relayConfig(sink, threads, true), cpus),
  },
  {
    // The same as 'relay' with version health on: the difference in worker CPU is what counting costs.
    id: 'relay-health',
    label: 'edge-relay, keep all, version health on',
    delivers: true,
    start: (sink, cpus, threads) =>
      startRelay(relayConfig(sink, threads, false, { versionHealth: true }), cpus),
  },
  {
    id: 'ceiling',
    label: 'ceiling (bare fastify)',
    delivers: false,
    start: (_sink, cpus) => startPeer('ceiling', 'peers/ceiling.ts', [], cpus),
  },
  {
    id: 'ceiling-http',
    label: 'ceiling (bare node:http)',
    delivers: false,
    start: (_sink, cpus) => startPeer('ceiling-http', 'peers/ceiling-http.ts', [], cpus),
  },
  {
    id: 'sdk',
    label: 'OpenTelemetry SDK relay',
    delivers: true,
    start: (sink, cpus) => startPeer('sdk-relay', 'peers/sdk-relay.ts', [sink], cpus),
  },
];
