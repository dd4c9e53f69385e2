import { Counter, type Registry } from 'prom-client';
import type { Verdict } from '../judge/verdict.ts';
import type { AuditSink } from '../telemetry/audit-log.ts';
import type { Logger } from '../telemetry/logger.ts';

export type ActionName = 'webhook' | 'rollback';

/**
 * What became of an action. Final outcomes are one per action; `retry` is counted for each failed
 * attempt (with retries on), so a struggling endpoint shows before the action gives up.
 * - webhook: `delivered`, `dry_run` (would have been sent), `failed`, `retry`.
 * - rollback: `activated`, `dry_run` (would have activated), `already_active` (the baseline is active),
 *   `in_progress` (an activation of the baseline is pending: another replica's), `not_active` (the
 *   active version is neither: something newer was deployed, which a rollback must not undo),
 *   `cooldown`, `excluded` (id not in `ids`), `failed`, `retry`.
 */
export type ActionOutcome =
  | 'delivered'
  | 'activated'
  | 'dry_run'
  | 'already_active'
  | 'in_progress'
  | 'not_active'
  | 'cooldown'
  | 'excluded'
  | 'failed'
  | 'retry';

/** One action, as the /versions page lists it. */
export interface ActionRecord {
  readonly time: number;
  readonly action: ActionName;
  readonly outcome: ActionOutcome;
  readonly workerId: string;
  readonly candidate: string;
  readonly baseline: string;
  /** What was (or would have been) done, or why not: for a person. */
  readonly detail: string;
}

/** Outcomes that mean something did not happen that should have: logged as errors. */
const FAILED: ReadonlySet<ActionOutcome> = new Set(['failed']);
/** Outcomes that mean the action stood down: not a failure, but worth a warning where a person looks. */
const NOTABLE: ReadonlySet<ActionOutcome> = new Set(['retry', 'not_active', 'cooldown']);

/** Records kept for the page: enough for a day of verdicts, bounded whatever the traffic. */
const KEPT = 500;

/**
 * Where every action and its outcome goes: a log line, `edge_relay_version_actions_total{action,outcome}`,
 * an audit record (`version.action`), and the recent records for the /versions page. Nothing an action
 * does is silent: each path through an action ends here.
 */
export class ActionLog {
  readonly #counter: Counter<'action' | 'outcome'>;
  readonly #log: Logger;
  readonly #audit: AuditSink;
  readonly #records: ActionRecord[] = [];
  readonly #now: () => number;

  constructor(registry: Registry, log: Logger, audit: AuditSink, now: () => number = Date.now) {
    this.#counter = new Counter({
      name: 'edge_relay_version_actions_total',
      help: 'Actions on version verdicts (webhook notices, EdgeWorkers rollbacks), by outcome; dry_run: what would have been done',
      labelNames: ['action', 'outcome'],
      registers: [registry],
    });
    this.#log = log;
    this.#audit = audit;
    this.#now = now;
  }

  record(action: ActionName, outcome: ActionOutcome, verdict: Verdict, detail: string): void {
    const record: ActionRecord = {
      time: this.#now(),
      action,
      outcome,
      workerId: verdict.workerId,
      candidate: verdict.candidate,
      baseline: verdict.baseline,
      detail,
    };
    this.#records.push(record);
    if (this.#records.length > KEPT) this.#records.splice(0, this.#records.length - KEPT);
    this.#counter.inc({ action, outcome });
    const fields = {
      action,
      outcome,
      worker_id: verdict.workerId,
      candidate: verdict.candidate,
      baseline: verdict.baseline,
      verdict: verdict.state,
    };
    const level = FAILED.has(outcome) ? 'error' : NOTABLE.has(outcome) ? 'warn' : 'info';
    this.#log[level](fields, `version action ${action}: ${outcome}: ${detail}`);
    // Retries are in the log and the metric; the audit trail keeps what was decided and what came of it.
    if (outcome !== 'retry') this.#audit.record('version.action', { ...fields, detail });
  }

  /** The records of one worker id, oldest first (every id when undefined). */
  records(workerId?: string): ActionRecord[] {
    return workerId === undefined ? [...this.#records] : this.#records.filter((r) => r.workerId === workerId);
  }
}
