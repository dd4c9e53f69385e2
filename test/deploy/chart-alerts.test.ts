import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { find, helm, type Manifest, template } from './helm.ts';

/**
 * The chart's default alerts, checked by Prometheus itself: `promtool check rules` on the rendered
 * PrometheusRule, and `promtool test rules` on synthetic series, where promtool is available (PROMTOOL,
 * or promtool on PATH; Debian's prometheus package has it). Skipped without it, saying so.
 */

const promtool =
  process.env.PROMTOOL ??
  (process.env.PATH ?? '')
    .split(delimiter)
    .map((dir) => join(dir, 'promtool'))
    .find((file) => existsSync(file));
if (!promtool) console.info('no promtool (set PROMTOOL or put promtool on PATH): alert rule tests skipped');

let dir = '';

/** The default groups as helm renders them, written as a Prometheus rule file; annotations left out if asked. */
function ruleFile(name: string, withAnnotations: boolean): string {
  const rule = find(template(['--set', 'prometheusRule.enabled=true']), 'PrometheusRule') as Manifest;
  const groups = (rule.spec.groups as Manifest[]).map((group) => ({
    ...group,
    rules: (group.rules as Manifest[]).map(({ annotations, ...rest }) =>
      withAnnotations ? { ...rest, annotations } : rest,
    ),
  }));
  const file = join(dir, name);
  writeFileSync(file, stringify({ groups }));
  return file;
}

function run(args: string[]): { status: number | null; output: string } {
  const result = spawnSync(promtool as string, args, { encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

// Pods of this release (`helm template r`: Deployment r-edge-relay, or its StatefulSet), and one of another
// release whose name starts the same, which the rules must leave alone.
const POD = 'r-edge-relay-5d8f7c9b4-abcde';
const OTHER_POD = 'r-edge-relay-7f6d5c4b3-fghij';
const STATEFUL_POD = 'r-edge-relay-0';
const FOREIGN_POD = 'r-edge-relay-canary-5d8f7c9b4-abcde';

const series = (metric: string, pod: string, values: string, labels: Record<string, string> = {}) => ({
  series: `${metric}{${Object.entries({ namespace: 'default', pod, ...labels })
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`,
  values,
});
const alert = (pod: string, severity: string, labels: Record<string, string> = {}) => ({
  exp_labels: { namespace: 'default', pod, severity, ...labels },
});

// The judge's verdict labels, and the RED metrics' labels of one EdgeWorker version's server spans.
const VERDICT = { worker_id: '42817', candidate: '1.4.3', baseline: '1.4.2' };
const edgeSeries = (version: string, kind = 'SPAN_KIND_SERVER') => ({
  akamai_edgeworker_id: '42817',
  akamai_edgeworker_version: version,
  akamai_edge_pop: 'FRA',
  span_name: 'GET /',
  span_kind: kind,
});

/** One promtool test: series sampled every minute, and the alerts expected at given times. */
const unitTest = (name: string, input_series: unknown[], alert_rule_test: unknown[]) => ({
  name,
  interval: '1m',
  input_series,
  alert_rule_test,
});

/** Counters that always exist, flat, for a pod: what a relay exports when nothing moves. */
const settledCounters = (pod: string, samples: number) => [
  series('edge_relay_spans_sampled_out_total', pod, `0x${samples}`),
  series('edge_relay_cluster_spans_forwarded_total', pod, `0x${samples}`),
  series('edge_relay_spans_dropped_total', pod, `0x${samples}`, { reason: 'queue_full' }),
];

const tests = [
  unitTest(
    'drops, by reason, of this release only',
    [
      series('edge_relay_spans_dropped_total', POD, '0x10 60+60x20', { reason: 'retry_exhausted' }),
      series('edge_relay_spans_dropped_total', POD, '0x30', { reason: 'queue_full' }),
      series('edge_relay_spans_dropped_total', FOREIGN_POD, '0x10 60+60x20', { reason: 'retry_exhausted' }),
    ],
    [
      { eval_time: '5m', alertname: 'EdgeRelaySpansDropped', exp_alerts: [] },
      {
        eval_time: '20m',
        alertname: 'EdgeRelaySpansDropped',
        exp_alerts: [alert(POD, 'critical', { reason: 'retry_exhausted' })],
      },
    ],
  ),
  unitTest(
    'spans held while nothing leaves, not while spans are exported',
    [
      series('edge_relay_spans_in_flight', POD, '50x40'),
      series('edge_relay_spans_exported_total', POD, '100x40'),
      ...settledCounters(POD, 40),
      series('edge_relay_spans_in_flight', STATEFUL_POD, '50x40'),
      series('edge_relay_spans_exported_total', STATEFUL_POD, '0+10x40'),
      ...settledCounters(STATEFUL_POD, 40),
      series('edge_relay_spans_in_flight', OTHER_POD, '0x40'),
      series('edge_relay_spans_exported_total', OTHER_POD, '100x40'),
      ...settledCounters(OTHER_POD, 40),
    ],
    [
      { eval_time: '3m', alertname: 'EdgeRelaySpansStuck', exp_alerts: [] },
      { eval_time: '25m', alertname: 'EdgeRelaySpansStuck', exp_alerts: [alert(POD, 'warning')] },
    ],
  ),
  unitTest(
    'sending queue above 80 %',
    [
      series('edge_relay_sending_queue_fill_ratio', POD, '0.5x5 0.85x20'),
      series('edge_relay_sending_queue_fill_ratio', OTHER_POD, '0.5x25'),
    ],
    [{ eval_time: '15m', alertname: 'EdgeRelaySendingQueueFilling', exp_alerts: [alert(POD, 'warning')] }],
  ),
  unitTest(
    'shedding load with 429',
    [
      series('edge_relay_requests_rejected_total', POD, '0+30x20', { reason: 'overloaded' }),
      series('edge_relay_requests_rejected_total', OTHER_POD, '0x20', { reason: 'overloaded' }),
    ],
    [
      {
        eval_time: '15m',
        alertname: 'EdgeRelayShedding',
        exp_alerts: [alert(POD, 'warning', { reason: 'overloaded' })],
      },
    ],
  ),
  unitTest(
    'client refusals above 5 % of requests, also before any acknowledgement',
    [
      // 1 refused for 10 acknowledged per second: 9 %.
      series('edge_relay_requests_rejected_total', POD, '0+60x30', { reason: 'invalid' }),
      series('edge_relay_ack_latency_seconds_count', POD, '0+600x30', { route: 'beacons' }),
      // 1 %, and overload refusals, which are not the client's doing.
      series('edge_relay_requests_rejected_total', OTHER_POD, '0+6x30', { reason: 'unauthorized' }),
      series('edge_relay_requests_rejected_total', OTHER_POD, '0+600x30', { reason: 'overloaded' }),
      series('edge_relay_ack_latency_seconds_count', OTHER_POD, '0+600x30', { route: 'beacons' }),
      // Every request refused: no acknowledgement series at all.
      series('edge_relay_requests_rejected_total', STATEFUL_POD, '0+60x30', { reason: 'unauthorized' }),
    ],
    [
      {
        eval_time: '25m',
        alertname: 'EdgeRelayRefusingRequests',
        exp_alerts: [alert(POD, 'warning'), alert(STATEFUL_POD, 'warning')],
      },
    ],
  ),
  unitTest(
    'a regressed verdict from any replica, one alert per candidate, none for another release',
    [
      series('edge_relay_version_verdict', POD, '0x5 1x10', { ...VERDICT, state: 'regressed' }),
      series('edge_relay_version_verdict', POD, '1x5 0x10', { ...VERDICT, state: 'suspect' }),
      series('edge_relay_version_verdict', OTHER_POD, '0x15', { ...VERDICT, state: 'regressed' }),
      series('edge_relay_version_verdict', FOREIGN_POD, '1x15', {
        ...VERDICT,
        worker_id: '7',
        state: 'regressed',
      }),
    ],
    [
      { eval_time: '3m', alertname: 'EdgeWorkerVersionRegressed', exp_alerts: [] },
      {
        eval_time: '8m',
        alertname: 'EdgeWorkerVersionRegressed',
        exp_alerts: [{ exp_labels: { ...VERDICT, severity: 'critical' } }],
      },
    ],
  ),
  unitTest(
    'error ratio per EdgeWorker version above 5 %, over the replicas, not for versions with little traffic',
    [
      // 1.4.3: 0.1 errors of 1 request per second on each of two replicas (10 %).
      ...[POD, STATEFUL_POD].flatMap((pod) => [
        series('edge_relay_edge_errors_total', pod, '0+6x30', edgeSeries('1.4.3')),
        series('edge_relay_edge_requests_total', pod, '0+60x30', edgeSeries('1.4.3')),
      ]),
      // 1.4.2: 1.7 %.
      series('edge_relay_edge_errors_total', POD, '0+1x30', edgeSeries('1.4.2')),
      series('edge_relay_edge_requests_total', POD, '0+60x30', edgeSeries('1.4.2')),
      // 0.9.0: half its requests fail, but it serves one request every 10 seconds.
      series('edge_relay_edge_errors_total', POD, '0+3x30', edgeSeries('0.9.0')),
      series('edge_relay_edge_requests_total', POD, '0+6x30', edgeSeries('0.9.0')),
      // Origin sub-requests are not what the version serves.
      series('edge_relay_edge_errors_total', POD, '0+60x30', edgeSeries('1.4.2', 'SPAN_KIND_CLIENT')),
      series('edge_relay_edge_requests_total', POD, '0+60x30', edgeSeries('1.4.2', 'SPAN_KIND_CLIENT')),
    ],
    [
      { eval_time: '8m', alertname: 'EdgeWorkerVersionErrorRate', exp_alerts: [] },
      {
        eval_time: '25m',
        alertname: 'EdgeWorkerVersionErrorRate',
        exp_alerts: [
          {
            exp_labels: {
              akamai_edgeworker_id: '42817',
              akamai_edgeworker_version: '1.4.3',
              severity: 'warning',
            },
          },
        ],
      },
    ],
  ),
];

describe.skipIf(!helm || !promtool)('the default alerts, in Prometheus', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'edge-relay-rules-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('promtool check rules accepts the rendered PrometheusRule, annotations included', () => {
    const { status, output } = run(['check', 'rules', ruleFile('rules.yaml', true)]);
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS: 7 rules found');
  });

  it('each alert fires on the series it is for, and not on its neighbours', () => {
    const rules = ruleFile('rules-for-test.yaml', false);
    const file = join(dir, 'test.yaml');
    writeFileSync(file, stringify({ rule_files: [rules], evaluation_interval: '1m', tests }));
    const { status, output } = run(['test', 'rules', file]);
    expect(status, output).toBe(0);
  });
});
