import { once } from 'node:events';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MessagePort, Worker } from 'node:worker_threads';
import type { Posted, PostedReader } from '../handoff/posted-counts.ts';
import type { AuthUsageBuffers } from '../receive/auth/auth-usage.ts';
import type { AuthConfig } from '../receive/auth/config.ts';
import type { IssuerKeySet } from '../receive/auth/followed-keys.ts';
import type { AuditSink } from '../telemetry/audit-log.ts';
import type { LogLevel } from '../telemetry/config.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { ReceiverParts } from './receiver-runtime.ts';
import { stopThreads } from './stop-threads.ts';

const threadUrl = new URL(`./receiver-thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** What a receiver thread starts with. */
export interface ReceiverThreadData {
  parts: ReceiverParts;
  /** The admission decision the supervisor publishes (receive/admission-flag.ts). */
  admission: SharedArrayBuffer;
  /** Token use by id, which the thread counts in its region (receive/auth-usage.ts). */
  auth_usage: AuthUsageBuffers;
  log_level: LogLevel;
  /** memory_limiter.check_interval: how often the thread publishes its memory in use. */
  check_interval: number;
  endpoint: { host: string; port: number };
  /** The OIDC issuer's keys as the supervisor last fetched them, if it has. */
  issuer_keys: IssuerKeySet | undefined;
}

export type ToReceiverThread =
  | { type: 'close' }
  /** A restarted shard's new channel from this receiver. */
  | { type: 'reconnect'; shard: number; port: MessagePort }
  /** receiver.auth after a reload; answered with `auth_applied` and the same `seq`. */
  | { type: 'auth'; config: AuthConfig; seq: number }
  /** The memory limiter is over its soft limit: collect garbage now and publish the memory left. */
  | { type: 'collect' }
  /** The OIDC issuer's keys, each time the supervisor fetches them or a thread asked for them. */
  | ({ type: 'issuer_keys' } & IssuerKeySet);

export type FromReceiverThread =
  | { type: 'listening'; port: number }
  | { type: 'closed' }
  /** What the thread had posted to the shard on the channel it just replaced. */
  | { type: 'reconnected'; shard: number; posted: Posted }
  | { type: 'auth_applied'; seq: number }
  /** An audit record only the thread sees (a token's first use, a minute's auth failures). */
  | { type: 'audit'; event: string; fields: Record<string, unknown> }
  /** A token named a key the thread's set of the OIDC issuer's keys lacks. */
  | { type: 'issuer_keys_wanted' };

/** Resolves with the port a receiver thread listens on; rejects if the thread fails first. */
async function listening(thread: Worker): Promise<number> {
  const failed = once(thread, 'error').then(([error]) => Promise.reject(error as Error));
  const exited = once(thread, 'exit').then(([code]) =>
    Promise.reject(new Error(`a receiver thread exited with code ${code} before it listened`)),
  );
  const ready = new Promise<number>((resolve) => {
    thread.on('message', (message: FromReceiverThread) => {
      if (message.type === 'listening') resolve(message.port);
    });
  });
  return Promise.race([ready, failed, exited]);
}

interface ThreadState {
  readonly thread: Worker;
  /** Gone (closed and terminated, or exited): what it posted is final in shared memory. */
  gone: boolean;
  /** Reconnections sent and not yet answered, by shard. */
  readonly reconnecting: Map<number, (posted: Posted) => void>;
  /** The last token update it has applied. */
  authApplied: number;
}

/**
 * The receiver threads (receiver.threads > 1), each a whole receiver on one shared port. The first binds
 * the configured port (0 picks one) and the others join it, since SO_REUSEPORT shares a port only
 * between sockets that all set it. The supervisor never sits between a request and its answer.
 */
export class ReceiverPool {
  readonly port: number;
  readonly #threads: ThreadState[];
  readonly #posted: PostedReader;
  #authSeq = 0;
  readonly #authWaits = new Map<number, () => void>();
  #stopping = false;

  private constructor(threads: Worker[], port: number, posted: PostedReader) {
    this.#threads = threads.map((thread) => ({
      thread,
      gone: false,
      reconnecting: new Map(),
      authApplied: 0,
    }));
    this.port = port;
    this.#posted = posted;
  }

  static async start(
    base: Omit<ReceiverThreadData, 'parts' | 'endpoint'>,
    parts: (index: number) => ReceiverParts,
    count: number,
    endpoint: { host: string; port: number },
    posted: PostedReader,
    audit: AuditSink,
    log: Logger,
    onCrash: (error: Error) => void,
    /** A thread asks for the OIDC issuer's keys again. */
    keysWanted: () => void,
  ): Promise<ReceiverPool> {
    const spawn = (index: number, port: number) => {
      const data: ReceiverThreadData = { ...base, parts: parts(index), endpoint: { ...endpoint, port } };
      const transferList: MessagePort[] = data.parts.toShards;
      return new Worker(threadUrl, { workerData: data, transferList, name: `receiver-${index}` });
    };
    const audited = (index: number) => (message: FromReceiverThread) => {
      if (message.type === 'audit')
        audit.record(message.event, { ...message.fields, receiver_thread: index });
    };
    const first = spawn(0, endpoint.port);
    first.on('message', audited(0));
    const port = await listening(first);
    const rest = Array.from({ length: count - 1 }, (_, i) => spawn(i + 1, port));
    for (const [i, thread] of rest.entries()) thread.on('message', audited(i + 1));
    await Promise.all(rest.map(listening));
    const pool = new ReceiverPool([first, ...rest], port, posted);
    for (const [index, state] of pool.#threads.entries()) {
      const { thread } = state;
      thread.on('message', (message: FromReceiverThread) => {
        if (message.type === 'reconnected') {
          state.reconnecting.get(message.shard)?.(message.posted);
          state.reconnecting.delete(message.shard);
        }
        if (message.type === 'auth_applied') {
          state.authApplied = message.seq;
          pool.#authChecked();
        }
        if (message.type === 'issuer_keys_wanted') keysWanted();
      });
      thread.on('error', (error) => {
        log.error({ receiver_thread: index, err: error }, 'receiver thread failed');
        onCrash(error);
      });
      thread.on('exit', (code) => {
        pool.#gone(index);
        if (!pool.#stopping) onCrash(new Error(`receiver thread ${index} exited with code ${code}`));
      });
    }
    return pool;
  }

  /** Tells every thread (a forced collection). */
  broadcast(message: ToReceiverThread): void {
    for (const { thread, gone } of this.#threads) if (!gone) thread.postMessage(message);
  }

  /** Hands every thread reloaded tokens; resolves once each has them (or is gone). */
  updateAuth(config: AuthConfig): Promise<void> {
    const seq = ++this.#authSeq;
    this.broadcast({ type: 'auth', config, seq });
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#authWaits.set(seq, resolve);
    this.#authChecked();
    return promise;
  }

  #authChecked(): void {
    const applied = Math.min(...this.#threads.map((t) => (t.gone ? this.#authSeq : t.authApplied)));
    for (const [seq, resolve] of this.#authWaits) {
      if (seq > applied) continue;
      resolve();
      this.#authWaits.delete(seq);
    }
  }

  /**
   * Hands each thread its new channel to a restarted shard (`ports`, in thread order); resolves with
   * what each had posted on its old one. A thread already gone cannot answer: its channel is ended here
   * and its counts read from shared memory, where they are final.
   */
  reconnect(shard: number, ports: readonly MessagePort[]): Promise<Posted[]> {
    return Promise.all(
      this.#threads.map((state, index) => {
        const port = ports[index] as MessagePort;
        if (state.gone) {
          port.postMessage({ type: 'end' });
          port.close();
          return this.#posted.of(index, shard);
        }
        const { promise, resolve } = Promise.withResolvers<Posted>();
        state.reconnecting.set(shard, resolve);
        state.thread.postMessage({ type: 'reconnect', shard, port } satisfies ToReceiverThread, [port]);
        return promise;
      }),
    );
  }

  /** Every thread stops accepting, finishes its requests and ends its hand-off; then the threads stop. */
  async close(): Promise<void> {
    this.#stopping = true;
    await stopThreads(
      this.#threads.map(({ thread }) => thread),
      { type: 'close' } satisfies ToReceiverThread,
      'closed' satisfies FromReceiverThread['type'],
    );
  }

  /**
   * A thread that ended before answering a reconnection: the channel it was sent ended with it (the
   * shard sees it close), and nothing more was posted on the old one than shared memory says.
   */
  #gone(index: number): void {
    const state = this.#threads[index] as ThreadState;
    state.gone = true;
    for (const [shard, resolve] of state.reconnecting) resolve(this.#posted.of(index, shard));
    state.reconnecting.clear();
    this.#authChecked();
  }
}
