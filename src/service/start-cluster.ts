import type { Registry } from 'prom-client';
import { clusterEnabled } from '../route/config.ts';
import { FORWARDED_HEADER } from '../route/forward-header.ts';
import { Membership, otlpProbe } from '../route/membership.ts';
import { candidateSource } from '../route/resolve-members.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { ShardPool } from '../worker/shard-pool.ts';
import type { RelayConfig } from './relay-schema.ts';

/**
 * The main thread's part of a cluster: the membership view. (Every receiver serves the decisions route
 * and hands what it receives to the shards itself: worker/receiver-runtime.ts.)
 */
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
  registry: Registry,
  peerToken: () => string | undefined,
  log: Logger,
): ClusterHandle | undefined {
  const cluster = config.cluster;
  if (!clusterEnabled(cluster)) return undefined;
  const membership = new Membership(
    cluster,
    candidateSource(cluster),
    otlpProbe(cluster.forward.request_timeout, peerToken, FORWARDED_HEADER),
    (members) => pool.broadcast({ type: 'members', members }),
    registry,
    log,
  );
  return {
    join: () => membership.start(),
    leave: () => membership.leave(),
    members: () => membership.members,
  };
}
