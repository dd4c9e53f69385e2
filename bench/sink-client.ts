import { BenchProcess } from './bench-process.ts';
import type { SinkMode, SinkStats } from './sink.ts';

/** The sink process (bench/sink.ts), seen from the harness. */
export class SinkClient {
  readonly process: BenchProcess;
  readonly #base: string;

  private constructor(process: BenchProcess) {
    this.process = process;
    this.#base = `http://127.0.0.1:${process.port()}`;
  }

  static async start(cpus: string | undefined): Promise<SinkClient> {
    const script = new URL('sink.ts', import.meta.url).pathname;
    return new SinkClient(
      await BenchProcess.start({ name: 'sink', script, cpus, isReady: (l) => l.msg === 'ready' }),
    );
  }

  get tracesUrl(): string {
    return `${this.#base}/v1/traces`;
  }

  async stats(): Promise<SinkStats> {
    return (await (await fetch(`${this.#base}/stats`)).json()) as SinkStats;
  }

  async setMode(mode: SinkMode): Promise<void> {
    const response = await fetch(`${this.#base}/mode/${mode}`, { method: 'POST' });
    if (!response.ok) throw new Error(`sink refused mode ${mode}: ${await response.text()}`);
  }
}
