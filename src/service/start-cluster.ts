import type { FastifyInstance } from 'fastify';
import { shardOf } from '../handoff/shard-of.ts';
import type { IngestContext } from '../receive/ingest-context.ts';
import { clusterEnabled } from '../route/config.ts';
import { registerDecisionsRoute } from '../route/decisions-route.ts';
import { FORWARDED_HEADER } from '../route/forward-header.ts';
import { Membership, otlpProbe } from '../route/membership.ts';
import { candidateSource } from '../route/resolve-members.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { ShardPool } from '../worker/shard-pool.ts';
import type { RelayConfig } from './relay-schema.ts';

/** The main thread's part of a cluster: the decisions route (before listening) and the membership view. */
export interface ClusterHandle {
  /** After the receiver listens: learn the current members, then keep watching. */
  join(): Promise<void>;
  /** Shutdown: hand this replica's traces to the others. */
  leave(): void;
  /** The members this replica sees now, itself included. */
  members(): readonly string[];
}

export function startCluster(
  config: RelayConfig,
  pool: ShardPool,
  receiver: FastifyInstance,
  ingest: IngestContext,
  peerToken: () => string | undefined,
  log: Logger,
): ClusterHandle | undefined {
  const cluster = config.cluster;
  if (!clusterEnabled(cluster)) return undefined;
  registerDecisionsRoute(
    receiver,
    () => ingest.accepting,
    (decisions) => {
      const byShard = Map.groupBy(decisions, (decision) => shardOf(decision.traceId, pool.size));
      for (const [shard, list] of byShard) pool.post(shard, { type: 'decisions', decisions: list });
    },
  );
  const membership = new Membership(
    cluster,
    candidateSource(cluster),
    otlpProbe(cluster.forward.request_timeout, peerToken, FORWARDED_HEADER),
    (members) => pool.broadcast({ type: 'members', members }),
    ingest.metrics.registry,
    log,
  );
  return {
    join: () => membership.start(),
    leave: () => membership.leave(),
    members: () => membership.members,
  };
}
