import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { metricValue } from './prometheus-text.ts';
import { waitFor } from './wait-for.ts';

export const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;

// A test that times out, or fails between start and stop, must not leave a relay running: whatever is
// still alive when the test worker exits is killed.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** How to start the relay: by default the TypeScript CLI of this checkout. */
export interface LaunchOptions {
  /** Node arguments before `--config FILE` (e.g. the image's entrypoint flags and its dist/cli.js). */
  nodeArgs?: string[];
  cwd?: string;
  /** How long the relay may take to say it is ready; generous, since a loaded machine starts threads slowly. */
  readyTimeoutMs?: number;
}

/** A relay started as a real process (the CLI, on its own config file), with its output captured. */
export class RelayProcess {
  readonly child: ChildProcess;
  readonly configFile: string;
  output = '';
  receiverPort = 0;
  adminPort = 0;

  private constructor(child: ChildProcess, configFile: string) {
    this.child = child;
    this.configFile = configFile;
    child.stdout?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
  }

  /** Starts a relay on ephemeral loopback ports; `config` is merged over those. */
  static async start(
    config: Record<string, unknown>,
    env: NodeJS.ProcessEnv = {},
    { nodeArgs = [CLI], cwd, readyTimeoutMs = 60_000 }: LaunchOptions = {},
  ): Promise<RelayProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'edge-relay-test-'));
    const configFile = join(dir, 'relay.yaml');
    writeFileSync(
      configFile,
      stringify({
        receiver: { endpoint: '127.0.0.1:0' },
        admin: { endpoint: '127.0.0.1:0' },
        log: { level: 'info' },
        ...config,
      }),
    );
    const child = spawn(process.execPath, [...nodeArgs, '--config', configFile], {
      cwd,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    const relay = new RelayProcess(child, configFile);
    const ready = await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`relay exited early:\n${relay.output}`);
        return relay.logLines().find((line) => line.msg === 'edge-relay is ready');
      },
      'the relay to be ready',
      readyTimeoutMs,
    ).catch((error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    });
    relay.receiverPort = ready.receiver as number;
    relay.adminPort = ready.admin as number;
    return relay;
  }

  /** JSON log lines printed so far. */
  logLines(): Record<string, unknown>[] {
    return this.output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  get url(): string {
    return `http://127.0.0.1:${this.receiverPort}`;
  }

  post(path: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  }

  /** The value of one sample of a metric from /metrics (0 when absent). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return metricValue(
      await (await fetch(`http://127.0.0.1:${this.adminPort}/metrics`)).text(),
      name,
      labels,
    );
  }

  /** Sends a signal and waits for the process to exit; returns its exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    // A process ended by a signal has a null exitCode but a signalCode.
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill(signal);
    const [code] = (await once(this.child, 'exit')) as [number | null];
    return code;
  }
}
