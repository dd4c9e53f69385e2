import type { FastifyInstance } from 'fastify';
import type { ShardPool } from '../buffer/shard-pool.ts';
import type { RelayConfig } from '../config/relay-config.ts';
import type { IngestContext } from '../receive/ingest-context.ts';
import type { Logger } from '../telemetry/logger.ts';
import { clusterEnabled } from './config.ts';
import { registerDecisionsRoute } from './decisions-route.ts';
import { FORWARDED_HEADER } from './forward-header.ts';
import { Membership, otlpProbe } from './membership.ts';
import { candidateSource } from './resolve-members.ts';

/** The main thread's part of a cluster: the decisions route (before listening) and the membership view. */
export interface ClusterHandle {
  /** After the receiver listens: learn the current members, then keep watching. */
  join(): Promise<void>;
  /** Shutdown: hand this replica's traces to the others. */
  leave(): void;
}

export function startCluster(
  config: RelayConfig,
  pool: ShardPool,
  receiver: FastifyInstance,
  ingest: IngestContext,
  log: Logger,
): ClusterHandle | undefined {
  const cluster = config.cluster;
  if (!clusterEnabled(cluster)) return undefined;
  registerDecisionsRoute(
    receiver,
    pool.size,
    () => ingest.accepting,
    (shard, decisions) => pool.post(shard, { type: 'decisions', decisions }),
  );
  const token = config.receiver.auth.tokens[0];
  const membership = new Membership(
    cluster,
    candidateSource(cluster),
    otlpProbe(cluster.forward.request_timeout, token, FORWARDED_HEADER),
    (members) => pool.broadcast({ type: 'members', members }),
    ingest.metrics.registry,
    log,
  );
  return {
    join: () => membership.start(),
    leave: () => membership.leave(),
  };
}
