import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ActionLog } from '../../src/act/action-log.ts';
import type { ActionsConfig } from '../../src/health/config.ts';
import type { AuditSink } from '../../src/telemetry/audit-log.ts';
import type { TestPki } from './certs.ts';
import { CREDENTIALS } from './fake-edgeworkers-api.ts';
import { versionHealthConfig } from './version-health.ts';

/** A logger whose JSON lines are kept, parsed, for a test to read. */
export function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { log, lines, messages: () => lines.map((line) => String(line.msg)) };
}

/** What an action instance reports: its log lines, its metric and its audit records, captured. */
export class ActionHarness {
  readonly registry = new Registry();
  readonly #captured = capturedLog();
  readonly lines = this.#captured.lines;
  readonly log = this.#captured.log;
  readonly audited: { event: string; fields: Record<string, unknown> }[] = [];
  readonly audit: AuditSink = { record: (event, fields = {}) => void this.audited.push({ event, fields }) };
  readonly actions = new ActionLog(this.registry, this.log, this.audit);

  /** edge_relay_version_actions_total for one action and outcome. */
  async count(action: string, outcome: string): Promise<number> {
    const metric = await this.registry.getSingleMetric('edge_relay_version_actions_total')?.get();
    return metric?.values.find((v) => v.labels.action === action && v.labels.outcome === outcome)?.value ?? 0;
  }

  messages(): string[] {
    return this.#captured.messages();
  }
}

/** Fast retries for tests: a few attempts milliseconds apart, given up on after a few seconds. */
export const FAST_RETRY = {
  initial_interval: '5ms',
  max_interval: '20ms',
  randomization_factor: 0,
  max_elapsed_time: '5s',
};

/** A validated actions block with one action's block, `dry_run` (default false) taken from `extra`. */
function actionsBlock(action: 'webhook' | 'edgeworkers', block: Record<string, unknown>): ActionsConfig {
  const { dry_run = false, ...rest } = block;
  return versionHealthConfig({ actions: { dry_run, [action]: rest } }).actions as ActionsConfig;
}

/** Rollback through the fake API at `host`, trusting the test CA. */
export const rollbackActions = (
  host: string,
  pki: TestPki,
  extra: Record<string, unknown> = {},
): ActionsConfig =>
  actionsBlock('edgeworkers', {
    network: 'STAGING',
    host,
    ...CREDENTIALS,
    stagger: '1s',
    retry_on_failure: FAST_RETRY,
    tls: { ca_file: pki.caFile },
    ...extra,
  });

/** The webhook at `url` with `secret`. */
export const webhookActions = (
  url: string,
  secret: string,
  extra: Record<string, unknown> = {},
): ActionsConfig => actionsBlock('webhook', { url, secret, retry_on_failure: FAST_RETRY, ...extra });
