import { afterEach, describe, expect, it } from 'vitest';
import { ActionHarness, webhookActions } from '../../test/support/action-harness.ts';
import { change, verdict } from '../../test/support/verdicts.ts';
import { WebhookSink } from '../../test/support/webhook-sink.ts';
import type { ActionsConfig, WebhookConfig } from '../health/config.ts';
import { ALERT_NAME } from './alertmanager.ts';
import { WebhookNotifier } from './webhook.ts';

const SECRET = 'shared-secret-of-the-webhook';
let sink: WebhookSink | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

async function notifier(extra: Record<string, unknown> = {}) {
  sink = await WebhookSink.start(SECRET);
  const config = webhookActions(sink.url, SECRET, extra);
  const harness = new ActionHarness();
  const instance = new WebhookNotifier(
    config.webhook as WebhookConfig,
    (config as ActionsConfig).dry_run,
    harness.actions,
  );
  return { sink, harness, instance };
}

describe('webhook notices', () => {
  it('sends one signed firing notice and one resolved notice, Alertmanager-shaped', async () => {
    const { sink, harness, instance } = await notifier({
      labels: { team: 'edge' },
      external_url: 'https://relay.example.com',
    });
    const regressed = verdict('regressed');
    await instance.onChange(change(verdict('suspect'), 'collecting'));
    await instance.onChange(change(regressed, 'suspect'));
    // Told again (e.g. by a repeated evaluation), nothing more is sent.
    await instance.onChange(change(regressed, 'regressed'));
    await instance.onChange(change(regressed, 'regressed', 'superseded'));
    expect(sink.received.map((n) => [n.payload.status, n.verified])).toEqual([
      ['firing', true],
      ['resolved', true],
    ]);
    const [firing, resolved] = sink.notices.map((n) => n.payload);
    expect(firing).toMatchObject({ version: '4', receiver: 'edge-relay', truncatedAlerts: 0 });
    const alert = firing?.alerts[0];
    expect(alert?.labels).toEqual({
      alertname: ALERT_NAME,
      severity: 'critical',
      team: 'edge',
      akamai_edgeworker_id: '42817',
      akamai_edgeworker_version: '1.4.3',
      baseline_version: '1.4.2',
    });
    expect(alert?.annotations.description).toBe(regressed.reason);
    expect(alert?.annotations.evidence).toBe('error_rate at *: 7.00% vs 2.00% (p=1.9e-29)');
    expect(alert?.endsAt).toBe('0001-01-01T00:00:00Z');
    expect(alert?.generatorURL).toBe('https://relay.example.com/versions#worker-42817');
    expect(alert?.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    const ended = resolved?.alerts[0];
    expect(ended?.fingerprint).toBe(alert?.fingerprint);
    expect(ended?.startsAt).toBe(alert?.startsAt);
    expect(Date.parse(ended?.endsAt as string)).toBeGreaterThan(0);
    expect(sink.notices.map((n) => n.headers['idempotency-key'])).toEqual([
      `${alert?.fingerprint}-firing`,
      `${alert?.fingerprint}-resolved`,
    ]);
    expect(await harness.count('webhook', 'delivered')).toBe(2);
  });

  it('retries a notice the receiver could not take, and counts the failed attempts', async () => {
    const { sink, harness, instance } = await notifier();
    sink.failNext.push(503, 502);
    await instance.onChange(change(verdict('regressed'), 'suspect'));
    expect(sink.notices).toHaveLength(1);
    expect(await harness.count('webhook', 'retry')).toBe(2);
    expect(await harness.count('webhook', 'delivered')).toBe(1);
  });

  it('reports a notice that was refused as failed', async () => {
    const { sink, harness, instance } = await notifier();
    sink.failNext.push(400);
    await instance.onChange(change(verdict('regressed'), 'suspect'));
    expect(await harness.count('webhook', 'failed')).toBe(1);
    expect(harness.lines.find((line) => line.outcome === 'failed')?.msg).toContain('rejected: HTTP 400');
  });

  it('in a dry run sends nothing, and says what it would have sent', async () => {
    const { sink, harness, instance } = await notifier({ dry_run: true });
    await instance.onChange(change(verdict('regressed'), 'suspect'));
    await instance.onChange(change(verdict('regressed'), 'regressed', 'expired'));
    expect(sink.received).toHaveLength(0);
    expect(await harness.count('webhook', 'dry_run')).toBe(2);
    expect(harness.messages()[0]).toMatch(
      /would send the firing notice \(fingerprint [0-9a-f]{16}\) to 127\.0\.0\.1:/,
    );
  });
});
