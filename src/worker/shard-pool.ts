import { once } from 'node:events';
import { extname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type MessagePort, Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker } from '../handoff/messages.ts';
import type { HealthSnapshot } from '../health/snapshot.ts';
import type { SamplingSetup } from '../sample/sampling-setup.ts';
import type { Logger } from '../telemetry/logger.ts';
import { RestartBrake } from './restart-brake.ts';
import { stopThreads } from './stop-threads.ts';
import type { WorkerData, WorkerSections } from './worker-data.ts';

// Tests run the TypeScript sources and production runs the compiled output: load the worker with
// the same extension as this module.
const workerUrl = new URL(`./shard-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** What the pool tells its owner about threads that end while the relay runs. */
export interface ShardEvents {
  /**
   * A shard's thread died after it was ready. Called before its replacement starts, so that the owner
   * can account for what the dead thread held while nothing writes to its shared memory; resolves with
   * the replacement's channels from the receivers (its old ones ended with the dead thread). The
   * replacement starts `restartInMs` after that (worker/restart-brake.ts).
   */
  died(shard: number, error: Error, restartInMs: number): Promise<MessagePort[]>;
  /**
   * A shard's thread ended before it was ready (it cannot start), or died more often than the restart
   * brake allows: the relay cannot run.
   */
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
export class ShardPool {
  readonly #workers: Worker[] = [];
  readonly #data: (shard: number) => Omit<WorkerData, 'receivers'>;
  readonly #log: Logger;
  readonly #events: ShardEvents;
  readonly #state = new Map<StateMessage['type'], StateMessage>();
  /** Restarts under way: a dead shard's replacement waits for the receivers' new channels. */
  readonly #restarts = new Set<Promise<void>>();
  readonly #brakes: RestartBrake[] = [];
  /**
   * Aborted by a drain: a thread that exits after it is not restarted, and restart delays end at once (the
   * waiting replacements start and drain in turn).
   */
  readonly #draining = new AbortController();

  private constructor(
    data: (shard: number) => Omit<WorkerData, 'receivers'>,
    log: Logger,
    events: ShardEvents,
  ) {
    this.#data = data;
    this.#log = log;
    this.#events = events;
  }

  static async start(
    sections: WorkerSections,
    threads: number,
    shared: Omit<WorkerData, 'shard' | 'shards' | 'sections' | 'receivers'>,
    /** Each shard's channels from the receivers, in receiver order: moved into the shard's thread. */
    fromReceivers: readonly MessagePort[][],
    log: Logger,
    events: ShardEvents,
  ): Promise<ShardPool> {
    const pool = new ShardPool((shard) => ({ shard, shards: threads, sections, ...shared }), log, events);
    for (let shard = 0; shard < threads; shard++) {
      pool.#workers.push(pool.#spawn(shard, fromReceivers[shard] as MessagePort[]));
      pool.#brakes.push(new RestartBrake());
    }
    await Promise.all(pool.#workers.map((worker) => once(worker, 'message')));
    return pool;
  }

  #spawn(shard: number, receivers: MessagePort[]): Worker {
    const workerData: WorkerData = { ...this.#data(shard), receivers };
    const worker = new Worker(workerUrl, { workerData, transferList: receivers });
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
      if (this.#draining.signal.aborted) return;
      const error = failure ?? new Error(`worker shard ${shard} exited with code ${code}`);
      if (!ready) {
        this.#events.failed(error);
        return;
      }
      const brake = this.#brakes[shard] as RestartBrake;
      const wait = brake.died(Date.now());
      if (wait === undefined) {
        this.#events.failed(new Error(`worker shard ${shard} ${brake.refusal} (last: ${error.message})`));
        return;
      }
      const restart = this.#events
        .died(shard, error, wait)
        .then((receivers) => this.#pause(wait).then(() => receivers))
        .then((receivers) => {
          const next = this.#spawn(shard, receivers);
          this.#workers[shard] = next;
          for (const message of this.#state.values()) next.postMessage(message);
        })
        .catch((err: Error) => this.#events.failed(err))
        .finally(() => this.#restarts.delete(restart));
      this.#restarts.add(restart);
    });
    return worker;
  }

  #pause(ms: number): Promise<void> {
    if (ms === 0) return Promise.resolve();
    // An abort (a drain, also one begun before) ends the wait: the replacement starts either way.
    return sleep(ms, undefined, { signal: this.#draining.signal }).catch(() => {});
  }

  get size(): number {
    return this.#workers.length;
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

  /**
   * Asks every shard to hand on what it holds and finish exporting by the deadline, then stops them.
   * Call once every receiver has ended its hand-off: a shard drains after the last receiver's end.
   */
  async drain(deadline: number): Promise<void> {
    // A shard restarting now drains too: its receivers' channels hold what they sent since it died.
    this.#draining.abort();
    await Promise.all(this.#restarts);
    await stopThreads(
      this.#workers,
      { type: 'drain', deadline } satisfies ToWorker,
      'drained' satisfies FromWorker['type'],
    );
  }
}
