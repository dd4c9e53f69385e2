import type { FastifyInstance } from 'fastify';
import { replicaTurn } from '../act/replica-turn.ts';
import { startVersionActions, type VersionActions } from '../act/version-actions.ts';
import { registerVersionsPage } from '../act/versions-route.ts';
import type { VerdictSource } from '../judge/verdict.ts';
import type { AuditSink } from '../telemetry/audit-log.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { RelayMetrics } from '../telemetry/metrics.ts';
import type { RelayConfig } from './relay-schema.ts';

/**
 * The actions on the judge's verdicts and the /versions page, on the main thread. A replica's turn to
 * roll an id back follows the cluster's current members (each asked when its turn is needed).
 */
export function startActionsOn(
  verdicts: VerdictSource | undefined,
  config: RelayConfig,
  admin: FastifyInstance,
  members: () => readonly string[],
  deps: { metrics: RelayMetrics; log: Logger; audit: AuditSink },
): VersionActions | undefined {
  if (!verdicts || !config.version_health) return undefined;
  const actions = config.version_health.actions;
  const running = startVersionActions(verdicts, actions, {
    registry: deps.metrics.registry,
    log: deps.log,
    audit: deps.audit,
    hooks: { turn: (workerId) => replicaTurn(config.cluster.self, members(), workerId) },
  });
  registerVersionsPage(admin, verdicts, running, actions?.dry_run);
  return running;
}
