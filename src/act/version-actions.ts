import type { Registry } from 'prom-client';
import type { ActionsConfig } from '../health/config.ts';
import type { VerdictChange, VerdictSource } from '../judge/verdict.ts';
import type { AuditSink } from '../telemetry/audit-log.ts';
import type { Logger } from '../telemetry/logger.ts';
import { ActionLog } from './action-log.ts';
import { EdgeWorkersRollback, type RollbackHooks } from './rollback.ts';
import { VerdictHistory } from './verdict-history.ts';
import { WebhookNotifier } from './webhook.ts';

/** Between samples of the verdicts for the page's charts. */
const HISTORY_INTERVAL_MS = 10_000;

export interface ActionDeps {
  readonly registry: Registry;
  readonly log: Logger;
  readonly audit: AuditSink;
  /** Network and timing hooks for tests; the replica's turn per EdgeWorker id from the wiring. */
  readonly hooks?: RollbackHooks;
}

/** What the admin endpoint's /versions page reads, and what shutdown stops. */
export interface VersionActions {
  readonly actions: ActionLog;
  readonly history: VerdictHistory;
  /** Feeds one change through every configured action, as the judge's listener does; for tests. */
  handle(change: VerdictChange): Promise<void>;
  stop(deadline: number): Promise<void>;
}

/**
 * Listens to the judge's verdict changes and runs the configured actions for each. The listener is
 * called on the main thread right after an evaluation and returns at once: each action is network I/O
 * that runs on the event loop, and never touches the path that acknowledges beacons.
 */
export function startVersionActions(
  source: VerdictSource,
  config: ActionsConfig | undefined,
  deps: ActionDeps,
): VersionActions {
  const actions = new ActionLog(deps.registry, deps.log, deps.audit, deps.hooks?.now);
  const history = new VerdictHistory(deps.hooks?.now);
  const dryRun = config?.dry_run ?? true;
  const webhook = config?.webhook && new WebhookNotifier(config.webhook, dryRun, actions, deps.hooks);
  const rollback =
    config?.edgeworkers && new EdgeWorkersRollback(config.edgeworkers, dryRun, actions, deps.hooks);
  announce(config, deps.log);

  const handle = async (change: VerdictChange): Promise<void> => {
    history.add(change.verdict);
    await Promise.all([webhook?.onChange(change), rollback?.onChange(change)]);
  };
  const unsubscribe = source.onChange((change) => {
    void handle(change);
  });
  history.start(source, HISTORY_INTERVAL_MS);
  return {
    actions,
    history,
    handle,
    async stop(deadline) {
      unsubscribe();
      history.stop();
      await Promise.all([webhook?.stop(deadline), rollback?.stop(deadline)]);
    },
  };
}

function announce(config: ActionsConfig | undefined, log: Logger): void {
  if (!config?.webhook && !config?.edgeworkers) return;
  const fields = {
    dry_run: config.dry_run,
    webhook: config.webhook ? new URL(config.webhook.url).host : undefined,
    edgeworkers_network: config.edgeworkers?.network,
  };
  log.info(
    fields,
    config.dry_run
      ? 'version actions in dry run: what they would do is logged and counted, nothing is sent'
      : 'version actions armed: regressed versions are notified and rolled back as configured',
  );
}
