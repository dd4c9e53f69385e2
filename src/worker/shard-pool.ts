import { once } from 'node:events';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ShardPort } from '../handoff/handoff.ts';
import type { FromWorker, ToWorker } from '../handoff/messages.ts';
import type { HealthSnapshot } from '../health/snapshot.ts';
import type { SamplingSetup } from '../sample/sampling-setup.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { WorkerData, WorkerSections } from './worker-data.ts';

// Tests run the TypeScript sources and production runs the compiled output: load the worker with
// the same extension as this module.
const workerUrl = new URL(`./shard-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * The worker threads, one shard of traces each. Plain worker_threads rather than a task pool: a shard
 * keeps state (buffered traces, decisions, its export queue) and every span of a trace must reach the
 * same thread, which a pool that hands tasks to any idle worker cannot promise.
 */
export class ShardPool implements ShardPort {
  readonly #workers: Worker[];
  #stopping = false;

  private constructor(workers: Worker[]) {
    this.#workers = workers;
  }

  static async start(
    sections: WorkerSections,
    threads: number,
    shared: Omit<WorkerData, 'shard' | 'shards' | 'sections'>,
    log: Logger,
    onCrash: (error: Error) => void,
    onHealth: (shard: number, snapshot: HealthSnapshot) => void = () => {},
  ): Promise<ShardPool> {
    const workers = Array.from({ length: threads }, (_, shard) => {
      const data: WorkerData = { shard, shards: threads, sections, ...shared };
      return new Worker(workerUrl, { workerData: data });
    });
    const pool = new ShardPool(workers);
    for (const [shard, worker] of workers.entries()) {
      worker.on('error', (error) => {
        log.error({ shard, err: error }, 'worker shard failed');
        onCrash(error);
      });
      worker.on('exit', (code) => {
        if (!pool.#stopping) onCrash(new Error(`worker shard ${shard} exited with code ${code}`));
      });
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'health') onHealth(shard, message.snapshot);
      });
    }
    await Promise.all(workers.map((worker) => once(worker, 'message')));
    return pool;
  }

  get size(): number {
    return this.#workers.length;
  }

  post(shard: number, message: ToWorker, transfer: ArrayBuffer[] = []): void {
    (this.#workers[shard] as Worker).postMessage(message, transfer);
  }

  /** Hands new sampling policies to every shard; buffered traces stay where they are. */
  reconfigure(sampling: SamplingSetup | undefined): void {
    this.broadcast({ type: 'reconfigure', sampling });
  }

  broadcast(message: ToWorker): void {
    for (const worker of this.#workers) worker.postMessage(message);
  }

  /** Asks every shard to hand on what it holds and finish exporting by the deadline, then stops them. */
  async drain(deadline: number): Promise<void> {
    this.#stopping = true;
    await Promise.all(
      this.#workers.map(async (worker) => {
        const drained = new Promise<void>((resolve) => {
          worker.on('message', (message: FromWorker) => {
            if (message.type === 'drained') resolve();
          });
          worker.once('exit', () => resolve());
        });
        worker.postMessage({ type: 'drain', deadline } satisfies ToWorker);
        await drained;
        await worker.terminate();
      }),
    );
  }
}
