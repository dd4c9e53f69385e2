import type { ReceiverAuth } from '../receive/auth/receiver-auth.ts';
import type { SamplingSetup } from '../sample/sampling-setup.ts';
import type { AuditSink } from '../telemetry/audit-log.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { ShardPool } from '../worker/shard-pool.ts';
import type { RelayConfig } from './relay-schema.ts';
import type { ReloadOrigin } from './reload-plan.ts';
import { applied, planReload } from './reload-plan.ts';

export interface ReloadTargets {
  pool: ShardPool;
  /** Every receiver's token check (service/start-ingress.ts). */
  auth: Pick<ReceiverAuth, 'update'>;
  audit: AuditSink;
  log: Logger;
  sampling: (config: RelayConfig['tail_sampling']) => SamplingSetup | undefined;
}

/**
 * Applies reloaded configs to a running relay: the sections that reload (tail_sampling, receiver.auth,
 * exporter.headers) go to where they live, the rest is logged as needing a restart, and every reload is
 * audited before it takes effect (the token events it causes then follow its record).
 */
export function reloader(start: RelayConfig, targets: ReloadTargets) {
  const { pool, auth, audit, log } = targets;
  // The config as it runs (start plus the reloaded parts) and as last loaded (what the next reload is compared to).
  let running = start;
  let loaded = start;
  return {
    running: () => running,
    apply(next: RelayConfig, origin: ReloadOrigin): void {
      const plan = planReload(running, loaded, next);
      loaded = next;
      running = applied(running, next, plan);
      const restart = plan.restart.map(({ key }) => key);
      audit.record('config.reloaded', {
        ...origin,
        sections: plan.sections,
        keys: plan.keys,
        secret_keys: plan.secret_keys,
        applied: plan.apply,
        restart_required: restart,
      });
      if (plan.apply.includes('tail_sampling')) pool.reconfigure(targets.sampling(next.tail_sampling));
      if (plan.apply.includes('receiver.auth')) auth.update(next.receiver.auth);
      if (plan.apply.includes('exporter.headers')) {
        pool.broadcast({ type: 'exporter_headers', headers: next.exporter.headers });
      }
      if (plan.apply.length > 0) {
        log.info({ applied: plan.apply, secret_keys: plan.secret_keys }, 'reload applied');
      }
      for (const { key, why } of plan.restart) if (why) log.warn({ key }, `${key} is not reloaded: ${why}`);
      if (restart.length > 0) {
        log.warn(
          { keys: restart },
          'these changes are not applied on reload; restart the relay to apply them',
        );
      }
    },
  };
}
