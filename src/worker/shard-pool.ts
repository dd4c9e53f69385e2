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

/** What the pool tells its owner about threads that end while the relay runs. */
export interface ShardEvents {
  /**
   * A shard's thread died after it was ready. Called before its replacement starts, so that the owner
   * can account for what the dead thread held while nothing writes to its shared memory.
   */
  died(shard: number, error: Error): void;
  /** A shard's thread ended before it was ready: it cannot start, and the relay cannot run. */
  failed(error: Error): void;
  /** A shard's latest version-health snapshot (health/snapshot.ts). */
  health?(shard: number, snapshot: HealthSnapshot): void;
}

/** Messages that set a shard's state rather than hand it data: a restarted shard gets the latest of each. */
type StateMessage = Extract<
  ToWorker,
  { type: 'reconfigure' | 'members' | 'exporter_headers' | 'peer_token' | 'evidence' }
>;
const STATE_MESSAGES = new Set<ToWorker['type']>([
  'reconfigure',
  'members',
  'exporter_headers',
  'peer_token',
  'evidence',
]);

/**
 * The worker threads, one shard of traces each. Plain worker_threads rather than a task pool: a shard
 * keeps state (buffered traces, decisions, its export queue) and every span of a trace must reach the
 * same thread, which a pool that hands tasks to any idle worker cannot promise. A shard whose thread
 * dies is started again on the same shared memory: the process, and the other shards, go on.
 */
export class ShardPool implements ShardPort {
  readonly #workers: Worker[] = [];
  readonly #data: (shard: number) => WorkerData;
  readonly #log: Logger;
  readonly #events: ShardEvents;
  readonly #state = new Map<StateMessage['type'], StateMessage>();
  #stopping = false;

  private constructor(data: (shard: number) => WorkerData, log: Logger, events: ShardEvents) {
    this.#data = data;
    this.#log = log;
    this.#events = events;
  }

  static async start(
    sections: WorkerSections,
    threads: number,
    shared: Omit<WorkerData, 'shard' | 'shards' | 'sections'>,
    log: Logger,
    events: ShardEvents,
  ): Promise<ShardPool> {
    const pool = new ShardPool((shard) => ({ shard, shards: threads, sections, ...shared }), log, events);
    for (let shard = 0; shard < threads; shard++) pool.#workers.push(pool.#spawn(shard));
    await Promise.all(pool.#workers.map((worker) => once(worker, 'message')));
    return pool;
  }

  #spawn(shard: number): Worker {
    const worker = new Worker(workerUrl, { workerData: this.#data(shard) });
    let ready = false;
    let failure: Error | undefined;
    worker.once('message', () => {
      ready = true;
    });
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'health') this.#events.health?.(shard, message.snapshot);
    });
    worker.on('error', (error) => {
      this.#log.error({ shard, err: error }, 'worker shard failed');
      failure = error;
    });
    worker.on('exit', (code) => {
      if (this.#stopping) return;
      const error = failure ?? new Error(`worker shard ${shard} exited with code ${code}`);
      if (!ready) {
        this.#events.failed(error);
        return;
      }
      this.#events.died(shard, error);
      const next = this.#spawn(shard);
      this.#workers[shard] = next;
      for (const message of this.#state.values()) next.postMessage(message);
    });
    return worker;
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
    if (STATE_MESSAGES.has(message.type))
      this.#state.set(message.type as StateMessage['type'], message as StateMessage);
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
