import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpuSeconds, peakRss, resetPeakRss, type ThreadCpu, threadCpuSeconds } from './proc-stats.ts';

export type ReadyLine = Record<string, unknown>;

export interface StartOptions {
  name: string;
  script: string;
  args?: string[];
  /** Options for node itself, before the script (e.g. V8 heap flags). */
  nodeOptions?: string[];
  /** CPU list for taskset (e.g. "1"); undefined leaves the process unpinned. */
  cpus?: string | undefined;
  /** Recognises the line the process prints once it serves. */
  isReady: (line: ReadyLine) => boolean;
  timeoutMs?: number;
}

function jsonLine(line: string): ReadyLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as ReadyLine;
  } catch {
    return undefined;
  }
}

/** A process the bench measures: started (optionally pinned with taskset), watched through /proc, stopped. */
export class BenchProcess {
  readonly name: string;
  readonly ready: ReadyLine;
  readonly #child: ChildProcess;
  #output: string;

  private constructor(name: string, child: ChildProcess, ready: ReadyLine, output: string) {
    this.name = name;
    this.#child = child;
    this.ready = ready;
    this.#output = output;
    child.stdout?.on('data', (chunk: Buffer) => this.#keep(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.#keep(chunk));
  }

  static async start(options: StartOptions): Promise<BenchProcess> {
    const node = [process.execPath, ...(options.nodeOptions ?? []), options.script, ...(options.args ?? [])];
    const [command, ...args] = options.cpus ? ['taskset', '-c', options.cpus, ...node] : node;
    // taskset execs node in place, so the child's pid is the measured process's pid.
    const child = spawn(command as string, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const ready = await new Promise<ReadyLine>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${options.name} not ready after ${options.timeoutMs ?? 20_000} ms:\n${output}`));
      }, options.timeoutMs ?? 20_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        for (const line of output.split('\n').slice(0, -1)) {
          const parsed = jsonLine(line);
          if (parsed && options.isReady(parsed)) {
            clearTimeout(timer);
            child.stdout?.off('data', onData);
            child.stderr?.off('data', onData);
            resolve(parsed);
          }
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${options.name} exited (${code}) before it was ready:\n${output}`));
      });
    });
    return new BenchProcess(options.name, child, ready, output);
  }

  get pid(): number {
    return this.#child.pid as number;
  }

  /** What the process printed (the last 64 KB). */
  get output(): string {
    return this.#output;
  }

  port(key = 'port'): number {
    return this.ready[key] as number;
  }

  cpuSeconds(): number {
    return cpuSeconds(this.pid);
  }

  threadCpuSeconds(): ThreadCpu {
    return threadCpuSeconds(this.pid);
  }

  peakRss(): number {
    return peakRss(this.pid);
  }

  resetPeakRss(): boolean {
    return resetPeakRss(this.pid);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = once(this.#child, 'exit');
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  #keep(chunk: Buffer): void {
    this.#output = (this.#output + chunk.toString()).slice(-65_536);
  }
}
