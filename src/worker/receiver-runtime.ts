import type { MessagePort } from 'node:worker_threads';
import type { FastifyInstance } from 'fastify';
import { Handoff, type ShardPort, ShardPorts } from '../handoff/handoff.ts';
import { type Posted, PostedCounts } from '../handoff/posted-counts.ts';
import { shardOf } from '../handoff/shard-of.ts';
import { takenFrom } from '../handoff/taken-bytes.ts';
import type { AdmissionDecision } from '../receive/admission-flag.ts';
import type { Authenticator } from '../receive/auth/receiver-auth.ts';
import type { ReceiverConfig } from '../receive/config.ts';
import type { IngestContext } from '../receive/ingest-context.ts';
import { createReceiver } from '../receive/receiver-server.ts';
import type { WriteAheadLog } from '../receive/wal/write-ahead-log.ts';
import { registerDecisionsRoute } from '../route/decisions-route.ts';
import type { SharedDecision } from '../sample/trace-holder.ts';
import type { Logger } from '../telemetry/logger.ts';
import { ReceiverMetricsWriter } from '../telemetry/receiver-metrics.ts';

/** What one receiver (on the main thread or a receiver thread) is built from: all of it transferable. */
export interface ReceiverParts {
  /** This receiver's index: its region of the receiver metrics and its slot of the taken-up bytes. */
  index: number;
  receivers: number;
  receiver: ReceiverConfig;
  /** workers.max_pending_bytes: the whole bound, shared evenly by the receivers. */
  maxPendingBytes: number;
  /** With a cluster: serve POST /v1/cluster/decisions here as well. */
  decisions: boolean;
  /** This receiver's hand-off channel to each shard, in shard order. */
  toShards: MessagePort[];
  /** Bytes each shard took up from each receiver (handoff/taken-bytes.ts). */
  taken: SharedArrayBuffer;
  /** What each receiver posted to each shard (handoff/posted-counts.ts). */
  posted: SharedArrayBuffer;
  metrics: SharedArrayBuffer;
}

/** What a receiver runs on besides its parts: the same objects on the main thread, stand-ins in a thread. */
export interface ReceiverSetting {
  admission: AdmissionDecision;
  auth: Authenticator;
  clientIp: (peer: string, forwardedFor: string | undefined) => string;
  wal?: WriteAheadLog | undefined;
  log: Logger;
}

export interface RunningReceiver {
  readonly app: FastifyInstance;
  readonly ingest: IngestContext;
  readonly metrics: ReceiverMetricsWriter;
  /**
   * A restarted shard's new channel from this receiver: later hand-offs go there. Returns what this
   * receiver had posted on the old one (all of it went to the thread that died); a receiver that has
   * already ended ends the new channel at once.
   */
  reconnect(shard: number, port: MessagePort): Posted;
  /** Refuses new data (503), finishes the requests under way, and ends the hand-off to every shard. */
  close(): Promise<void>;
}

/** Peers' handed-over decisions go to the shards owning their traces, on this receiver's channels. */
function deliverDecisions(port: ShardPort): (decisions: SharedDecision[]) => void {
  return (decisions) => {
    const byShard = Map.groupBy(decisions, (decision) => shardOf(decision.traceId, port.size));
    for (const [shard, list] of byShard) port.post(shard, { type: 'decisions', decisions: list });
  };
}

/**
 * One receiver: the ingest server with its routes, its hand-off to the shards and its counters. The
 * same on the main thread (one receiver) and in each receiver thread, so the two modes differ only in
 * where this runs and what it is set in (setting: the admission decision, the token check).
 */
export function startReceiver(parts: ReceiverParts, setting: ReceiverSetting): RunningReceiver {
  const ports = new ShardPorts(parts.toShards);
  const metrics = new ReceiverMetricsWriter(parts.metrics, parts.index);
  const handoff = new Handoff(
    ports,
    {
      posted: new PostedCounts(parts.posted, ports.size, parts.index),
      taken: takenFrom(parts.taken, parts.receivers, parts.index),
    },
    parts.maxPendingBytes / parts.receivers,
  );
  const ingest: IngestContext = {
    handoff,
    wal: setting.wal,
    shards: ports.size,
    metrics,
    admission: setting.admission,
    clientIp: setting.clientIp,
    accepting: true,
  };
  const app = createReceiver(parts.receiver, ingest, setting.log, setting.auth, parts.receivers);
  if (parts.decisions) registerDecisionsRoute(app, () => ingest.accepting, deliverDecisions(ports));
  let ended = false;
  return {
    app,
    ingest,
    metrics,
    reconnect(shard, port) {
      const posted = handoff.posted(shard);
      ports.replace(shard, port);
      if (ended) ports.post(shard, { type: 'end' });
      return posted;
    },
    async close() {
      ingest.accepting = false;
      await app.close();
      handoff.end();
      ended = true;
    },
  };
}
