import { percent } from '../judge/reason.ts';
import type { MetricComparison, Verdict } from '../judge/verdict.ts';
import { canonicalJson, sha256Hex } from '../lib/digest.ts';

// The webhook's body is Alertmanager's webhook payload (version "4"), so that anything that takes
// Alertmanager's webhooks (incident tools, chat bridges, a custom receiver) takes the relay's notices
// as they are: one alert per (EdgeWorker id, candidate version), firing when the candidate is judged
// regressed and resolved when that verdict clears.

export const ALERT_NAME = 'EdgeWorkerVersionRegressed';
/** Alertmanager's "no end yet": the zero time of Go, as its firing alerts carry. */
const NO_END = '0001-01-01T00:00:00Z';

export type AlertStatus = 'firing' | 'resolved';

export interface Alert {
  status: AlertStatus;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface WebhookPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: AlertStatus;
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: Alert[];
}

export interface PayloadOptions {
  receiver: string;
  /** Added to the alert's labels; the relay's own labels win, since they identify the alert. */
  labels: Record<string, string>;
  /** Base URL of the admin endpoint, for links to /versions; '' for none. */
  externalUrl: string;
}

/** The labels that identify the alert: the same on every replica, so its fingerprint is too. */
function alertLabels(verdict: Verdict, extra: Record<string, string>): Record<string, string> {
  return {
    severity: 'critical',
    ...extra,
    alertname: ALERT_NAME,
    akamai_edgeworker_id: verdict.workerId,
    akamai_edgeworker_version: verdict.candidate,
    baseline_version: verdict.baseline,
  };
}

/**
 * Alertmanager's fingerprint is a 64-bit hash of the label set, in 16 hex digits; here the first 64 bits
 * of SHA-256 over the sorted labels: the same alert from any replica has the same fingerprint.
 */
export const fingerprintOf = (labels: Record<string, string>): string =>
  sha256Hex(canonicalJson(labels)).slice(0, 16);

const seconds = (value: number | undefined): string => (value === undefined ? 'n/a' : `${value.toFixed(3)}s`);

/** The comparison that decided, in numbers a person reads: "error_rate at *: 7.10% vs 2.05% (p=1.2e-9)". */
export function describeComparison(comparison: MetricComparison): string {
  const { metric, pop, baseline, candidate, p_value: p } = comparison;
  const figures =
    metric === 'error_rate'
      ? `${percent(candidate.errorRate, 2)} vs ${percent(baseline.errorRate, 2)}`
      : `p95 ${seconds(candidate.p95)} vs ${seconds(baseline.p95)}`;
  return `${metric} at ${pop}: ${figures}${p === undefined ? '' : ` (p=${p.toPrecision(2)})`}`;
}

function versionsLink(externalUrl: string, workerId: string): string {
  if (externalUrl === '') return '';
  return `${externalUrl.replace(/\/+$/, '')}/versions#worker-${encodeURIComponent(workerId)}`;
}

/** The notice for one verdict: firing with the verdict's numbers, or resolved at `now`. */
export function webhookPayload(
  verdict: Verdict,
  status: AlertStatus,
  startsAt: number,
  now: number,
  options: PayloadOptions,
): WebhookPayload {
  const labels = alertLabels(verdict, options.labels);
  const deciding = verdict.comparisons[0];
  const annotations: Record<string, string> = {
    summary: `EdgeWorker ${verdict.workerId} version ${verdict.candidate} is ${verdict.state} against ${verdict.baseline}`,
    description: verdict.reason,
    verdict: verdict.state,
    mode: verdict.mode,
    ...(deciding ? { evidence: describeComparison(deciding) } : {}),
  };
  const groupLabels = { alertname: ALERT_NAME, akamai_edgeworker_id: verdict.workerId };
  return {
    version: '4',
    groupKey: `{}:{alertname="${ALERT_NAME}", akamai_edgeworker_id=${JSON.stringify(verdict.workerId)}}`,
    truncatedAlerts: 0,
    status,
    receiver: options.receiver,
    groupLabels,
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: options.externalUrl,
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt: new Date(startsAt).toISOString(),
        endsAt: status === 'firing' ? NO_END : new Date(now).toISOString(),
        generatorURL: versionsLink(options.externalUrl, verdict.workerId),
        fingerprint: fingerprintOf(labels),
      },
    ],
  };
}
