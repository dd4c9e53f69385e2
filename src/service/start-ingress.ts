import type { AddressInfo } from 'node:net';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { type Posted, PostedReader } from '../handoff/posted-counts.ts';
import type { TakenBytesWriter } from '../handoff/taken-bytes.ts';
import { parseEndpoint } from '../lib/endpoint.ts';
import type { AdmissionDecision } from '../receive/admission-flag.ts';
import type { AuthUsageBuffers } from '../receive/auth/auth-usage.ts';
import type { Authenticator, ReceiverAuth } from '../receive/auth/receiver-auth.ts';
import { replayWal } from '../receive/wal/wal-replay.ts';
import type { WriteAheadLog } from '../receive/wal/write-ahead-log.ts';
import { clusterEnabled } from '../route/config.ts';
import { writeOffWorker } from '../telemetry/accounting.ts';
import type { AuditSink } from '../telemetry/audit-log.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { SharedMetricsReader, SharedMetricsWriter } from '../telemetry/shared-metrics.ts';
import { ReceiverPool } from '../worker/receiver-pool.ts';
import { type ReceiverParts, startReceiver } from '../worker/receiver-runtime.ts';
import type { RelayConfig } from './relay-schema.ts';

/** The hand-off channels: one MessageChannel per (receiver, shard) pair, each end in its own order. */
export function handoffChannels(
  receivers: number,
  shards: number,
): { toShards: MessagePort[][]; fromReceivers: MessagePort[][] } {
  const pairs = Array.from({ length: receivers }, () =>
    Array.from({ length: shards }, () => new MessageChannel()),
  );
  return {
    toShards: pairs.map((row) => row.map((channel) => channel.port1)),
    fromReceivers: Array.from({ length: shards }, (_, shard) =>
      pairs.map((row) => (row[shard] as MessageChannel).port2),
    ),
  };
}

export interface IngressSetup {
  config: RelayConfig;
  receivers: number;
  /** Each receiver's channels to the shards (handoffChannels().toShards). */
  toShards: MessagePort[][];
  taken: SharedArrayBuffer;
  posted: SharedArrayBuffer;
  /** Bytes a shard has taken up, from every receiver. */
  takenUp: (shard: number) => number;
  receiverMetrics: SharedArrayBuffer;
  /**
   * The admission decision as the main thread holds it (read directly by a receiver there), and the
   * shared memory it is published in for receiver threads.
   */
  admission: { decision: AdmissionDecision; buffer: SharedArrayBuffer };
  /** The token check: used as it is on the main thread; receiver threads are kept in step with it. */
  auth: ReceiverAuth;
  /** Token use by id, where receiver threads count theirs (the main thread's check counts in region 0). */
  authUsage: AuthUsageBuffers;
  /** Where receiver threads' audit records go. */
  audit: AuditSink;
  clientIp: (peer: string, forwardedFor: string | undefined) => string;
  wal: WriteAheadLog | undefined;
}

/** A restarted shard's new channels from every receiver, and what each had posted on its old one. */
export interface Reconnected {
  /** The shard's ends, in receiver order: what its replacement starts with. */
  ports: MessagePort[];
  posted: Posted[];
}

/** The receivers, listening: on the main thread, or in receiver threads on one shared port. */
export interface Ingress {
  readonly port: number;
  /** New channels from every receiver to a shard whose thread died (before its replacement starts). */
  reconnect(shard: number): Promise<Reconnected>;
  /** Tokens after a reload: the main thread's check is updated where it is, each thread's by message. */
  updateAuth(config: RelayConfig['receiver']['auth']): void;
  /** Forces a collection on every receiver thread (the memory limiter is over its soft limit). */
  collect(): void;
  /** Bytes handed to a shard (or waiting to be) that it has not taken up, over every receiver. */
  pendingBytes(shard: number): number;
  /** Stops accepting, finishes the requests under way and ends every receiver's hand-off. */
  close(): Promise<void>;
}

/**
 * A shard whose thread died: every receiver moves to a new channel to it first (what it posted on the
 * old one went to the dead thread, what it posts from now on waits for the replacement), then what
 * the dead thread held and had not taken up is written off, and each receiver's pair with the shard
 * counts all it posted as taken up. Call before the replacement starts, while nothing writes to the
 * shard's shared memory (`region`, `taken`); resolves with the replacement's channels and the spans lost.
 */
export async function reconnectShard(
  ingress: Ingress,
  shard: number,
  memory: { shared: SharedMetricsReader; region: SharedMetricsWriter; taken: TakenBytesWriter },
): Promise<{ ports: MessagePort[]; lost: number }> {
  const { ports, posted } = await ingress.reconnect(shard);
  for (const [receiver, { bytes }] of posted.entries()) memory.taken.set(receiver, bytes);
  const total = posted.reduce((sum, one) => ({ bytes: sum.bytes + one.bytes, spans: sum.spans + one.spans }));
  return { ports, lost: writeOffWorker(memory.shared, memory.region, shard, total) };
}

/** The error of a start that cannot listen names the key, since a port taken is a start-up failure. */
export function cannotListen(key: string, endpoint: string, err: unknown): Error {
  return new Error(`${key}: cannot listen on ${endpoint}: ${(err as Error).message}`);
}

/** One new channel per receiver to one shard. */
function channelsTo(receivers: number): { toShard: MessagePort[]; ports: MessagePort[] } {
  const channels = Array.from({ length: receivers }, () => new MessageChannel());
  return { toShard: channels.map((c) => c.port1), ports: channels.map((c) => c.port2) };
}

/**
 * With one receiver it runs on the main thread, as the relay always did (the write-ahead log needs it
 * there: its writer, segment table and replay belong to the thread that acknowledges), reading the
 * admission decision and checking tokens with the main thread's own objects; with more, each is a
 * thread of its own and the main thread only supervises.
 */
export async function startIngress(
  setup: IngressSetup,
  log: Logger,
  onCrash: (what: string) => (error: Error) => void,
): Promise<Ingress> {
  const { config, receivers, wal } = setup;
  const parts = (index: number): ReceiverParts => ({
    index,
    receivers,
    receiver: config.receiver,
    maxPendingBytes: config.workers.max_pending_bytes,
    decisions: clusterEnabled(config.cluster),
    toShards: setup.toShards[index] as MessagePort[],
    taken: setup.taken,
    posted: setup.posted,
    metrics: setup.receiverMetrics,
  });
  const endpoint = config.receiver.endpoint;
  if (receivers === 1) {
    const auth: Authenticator = setup.auth;
    const running = startReceiver(parts(0), {
      admission: setup.admission.decision,
      auth,
      clientIp: setup.clientIp,
      wal,
      log,
    });
    // What an earlier run logged and did not settle goes to the workers before anything new.
    const shards = running.ingest.shards;
    if (wal) await replayWal(wal, config.receiver.wal.directory, running.ingest.handoff, shards, log);
    try {
      await running.app.listen(parseEndpoint(endpoint));
    } catch (err) {
      throw cannotListen('receiver.endpoint', endpoint, err);
    }
    return {
      port: (running.app.server.address() as AddressInfo).port,
      async reconnect(shard) {
        const { toShard, ports } = channelsTo(1);
        return { ports, posted: [running.reconnect(shard, toShard[0] as MessagePort)] };
      },
      updateAuth: (next) => setup.auth.update(next),
      collect() {},
      pendingBytes: (shard) => running.ingest.handoff.pendingBytes(shard),
      close: () => running.close(),
    };
  }
  const posted = new PostedReader(setup.posted, setup.toShards[0]?.length ?? 0);
  const keysAtStart = setup.auth.issuerKeys();
  let pool: ReceiverPool;
  try {
    pool = await ReceiverPool.start(
      {
        admission: setup.admission.buffer,
        auth_usage: setup.authUsage,
        log_level: config.log.level,
        check_interval: config.memory_limiter.check_interval,
        issuer_keys: keysAtStart,
      },
      parts,
      receivers,
      parseEndpoint(endpoint),
      posted,
      setup.audit,
      log,
      onCrash('a receiver thread'),
      () => void setup.auth.refreshIssuerKeys(),
    );
  } catch (err) {
    throw cannotListen('receiver.endpoint', endpoint, err);
  }
  // One fetcher of the OIDC issuer's keys, here, for every receiver thread (receive/auth/followed-keys.ts);
  // a set fetched while the threads started is sent now.
  setup.auth.onIssuerKeys((set) => pool.broadcast({ type: 'issuer_keys', ...set }));
  const keysNow = setup.auth.issuerKeys();
  if (keysNow && keysNow.jwks !== keysAtStart?.jwks) pool.broadcast({ type: 'issuer_keys', ...keysNow });
  return {
    port: pool.port,
    async reconnect(shard) {
      const { toShard, ports } = channelsTo(receivers);
      return { ports, posted: await pool.reconnect(shard, toShard) };
    },
    updateAuth(next) {
      setup.auth.update(next);
      pool
        .updateAuth(next)
        .then(() => log.info({ receivers }, 'receiver tokens applied in every receiver thread'));
    },
    collect: () => pool.broadcast({ type: 'collect' }),
    // What waits in a thread for its next flush (a few milliseconds' worth) is not seen from here.
    pendingBytes: (shard) => posted.bytes(shard) - setup.takenUp(shard),
    close: () => pool.close(),
  };
}
