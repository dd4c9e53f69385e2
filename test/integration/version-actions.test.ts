import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/service/load-config.ts';
import { type Relay, startRelay } from '../../src/service/start-relay.ts';
import { capturedLog, FAST_RETRY } from '../support/action-harness.ts';
import { CHROMIUM, dumpDom, screenshot } from '../support/browser.ts';
import { type TestPki, testPki } from '../support/certs.ts';
import { freePorts } from '../support/cluster.ts';
import { CREDENTIALS, FakeEdgeWorkersApi } from '../support/fake-edgeworkers-api.ts';
import { metricValue } from '../support/prometheus-text.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { ManualVerdictSource, verdict } from '../support/verdicts.ts';
import { waitFor } from '../support/wait-for.ts';
import { WebhookSink } from '../support/webhook-sink.ts';
import { BAD, GOOD, postRollout, traffic } from './version-traffic.ts';

// The actions and the /versions page through real relays, against a fake EdgeWorkers API that verifies
// every EdgeGrid signature and a webhook sink that verifies the HMAC: once driven by the judge itself,
// from traffic of a failing version (a relay process), then with relays in this process whose verdicts
// the test gives (as the judge would), to set up several replicas and every kind of change at will.

const ID = '42817';
const SECRET = 'the-shared-webhook-secret';
if (!CHROMIUM)
  console.info('no chromium (set CHROMIUM or put chromium on PATH): the /versions browser test is skipped');

let pki: TestPki;
let api: FakeEdgeWorkersApi;
const running: Relay[] = [];
beforeAll(() => {
  pki = testPki();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((relay) => relay.stop()));
  await api?.close();
});

const edgeworkers = (extra: Record<string, unknown> = {}) => ({
  network: 'STAGING',
  host: api.host,
  ...CREDENTIALS,
  // Far more than a check and an activation take on loopback: the replica before has acted by then.
  stagger: '3s',
  retry_on_failure: FAST_RETRY,
  tls: { ca_file: pki.caFile },
  ...extra,
});

interface Started {
  relay: Relay;
  source: ManualVerdictSource;
  messages: () => string[];
  metrics: () => Promise<string>;
}

/** Relays on loopback with `actions`; with more than one, a cluster of them (so they take turns). */
async function startRelays(count: number, actions: Record<string, unknown>): Promise<Started[]> {
  const ports = await freePorts(count);
  const peers = ports.map((port) => `http://127.0.0.1:${port}`);
  const started = await Promise.all(
    ports.map(async (port, i) => {
      const source = new ManualVerdictSource();
      const { log, messages } = capturedLog();
      const config = resolveConfig({
        receiver: { endpoint: `127.0.0.1:${port}` },
        admin: { endpoint: '127.0.0.1:0' },
        workers: { threads: 1 },
        version_health: { actions },
        ...(count > 1 ? { cluster: { self: peers[i], peers, probe_interval: '100ms' } } : {}),
      });
      const relay = await startRelay(config, log, { verdicts: source });
      running.push(relay);
      const metrics = async () => (await fetch(`http://127.0.0.1:${relay.adminPort}/metrics`)).text();
      return { relay, source, messages, metrics };
    }),
  );
  if (count > 1) {
    // Each must see the others before the verdict comes, as replicas that have run a while do.
    for (const { metrics } of started) {
      await waitFor(
        async () => metricValue(await metrics(), 'edge_relay_cluster_members') === count,
        'a full cluster',
      );
    }
  }
  return started;
}

const finalOutcomes = ['activated', 'in_progress', 'already_active', 'dry_run', 'not_active', 'failed'];
async function rollbackOutcome(relay: Started): Promise<string | undefined> {
  const text = await relay.metrics();
  return finalOutcomes.find(
    (outcome) => metricValue(text, 'edge_relay_version_actions_total', { action: 'rollback', outcome }) > 0,
  );
}

describe('version actions through the relay', () => {
  it("acts on the judge's own verdict from traffic: one activation, one signed firing notice", async () => {
    api = await FakeEdgeWorkersApi.start(pki, { active: { [ID]: { STAGING: BAD } } });
    const sink = await WebhookSink.start(SECRET);
    const relay = await RelayProcess.start({
      workers: { threads: 1 },
      version_health: {
        judge: { evaluation_interval: '200ms', window: '1m', min_requests: 50 },
        actions: {
          dry_run: false,
          webhook: { url: sink.url, secret: SECRET, retry_on_failure: FAST_RETRY },
          edgeworkers: edgeworkers(),
        },
      },
    });
    try {
      await postRollout(relay, traffic(0, 200, [GOOD, BAD]));
      await waitFor(() => api.posts.length === 1 && sink.notices.length === 1, 'the rollback and the notice');
      expect(JSON.parse(api.posts[0]?.body as string)).toMatchObject({ version: GOOD, network: 'STAGING' });
      expect(sink.notices[0]?.payload.alerts[0]?.labels).toMatchObject({
        akamai_edgeworker_id: ID,
        akamai_edgeworker_version: BAD,
        baseline_version: GOOD,
      });
      expect(
        await relay.metric('edge_relay_version_actions_total', { action: 'rollback', outcome: 'activated' }),
      ).toBe(1);
      const page = await (await fetch(`http://127.0.0.1:${relay.adminPort}/versions`)).text();
      expect(page).toContain('data-state="regressed"');
      expect(page).toContain(`of ${GOOD} on STAGING (PENDING)`);
      expect(await relay.stop()).toBe(0);
      expect(api.posts).toHaveLength(1);
    } finally {
      await relay.stop();
      await sink.close();
    }
  });

  it('three relays judging the same traffic make exactly one activation of the baseline', async () => {
    api = await FakeEdgeWorkersApi.start(pki, { active: { [ID]: { STAGING: '1.4.3' } } });
    const relays = await startRelays(3, { dry_run: false, edgeworkers: edgeworkers() });
    for (const { source } of relays) source.set(verdict('regressed'));
    const outcomes = await Promise.all(
      relays.map((relay) => waitFor(() => rollbackOutcome(relay), 'each relay to settle its rollback')),
    );
    expect(api.requests.every((r) => r.verified)).toBe(true);
    expect(api.posts).toHaveLength(1);
    expect(api.activations.map((a) => [a.version, a.network])).toEqual([['1.4.2', 'STAGING']]);
    expect(outcomes.sort()).toEqual(['activated', 'in_progress', 'in_progress']);
  });

  it('in a dry run none activates, and their logs and metrics say what would have happened', async () => {
    api = await FakeEdgeWorkersApi.start(pki, { active: { [ID]: { STAGING: '1.4.3' } } });
    const relays = await startRelays(3, { edgeworkers: edgeworkers() });
    for (const { source } of relays) source.set(verdict('regressed'));
    for (const relay of relays) {
      expect(await waitFor(() => rollbackOutcome(relay), 'the dry run to settle')).toBe('dry_run');
      expect(relay.messages()).toContain(
        `version action rollback: dry_run: would activate 1.4.2 of EdgeWorker ${ID} on STAGING`,
      );
    }
    expect(relays[0]?.messages()).toContain(
      'version actions in dry run: what they would do is logged and counted, nothing is sent',
    );
    expect(api.posts).toHaveLength(0);
  });

  it('notifies a signed webhook (firing, then resolved), rolls back, and shows it all on /versions', async () => {
    api = await FakeEdgeWorkersApi.start(pki, { active: { [ID]: { STAGING: '1.4.3' } } });
    const sink = await WebhookSink.start(SECRET);
    try {
      const actions = {
        dry_run: false,
        webhook: { url: sink.url, secret: SECRET, retry_on_failure: FAST_RETRY },
        edgeworkers: edgeworkers(),
      };
      const [relay] = await startRelays(1, actions);
      const { source, metrics } = relay as Started;
      const page = `http://127.0.0.1:${relay?.relay.adminPort}/versions`;
      const blank = CHROMIUM ? await screenshot(page) : undefined;
      source.set(verdict('collecting'));
      source.set(verdict('regressed'));
      await waitFor(
        () => api.posts.length === 1 && sink.notices.length === 1,
        'the rollback and the firing notice',
      );
      await waitFor(
        async () => (await fetch(page)).text().then((html) => html.includes('(PENDING)')),
        'the page',
      );
      const html = await (await fetch(page)).text();
      expect(html).toContain('data-state="regressed"');
      expect(html).toContain('activation 100 of 1.4.2 on STAGING (PENDING)');
      if (CHROMIUM && blank) {
        const dom = await dumpDom(page);
        expect(dom).toContain(verdict('regressed').reason);
        expect(dom.match(/<svg/g)?.length).toBeGreaterThanOrEqual(3);
        expect(dom).toContain('<polyline');
        // The same window with verdicts, charts and tables holds far more than the empty page did.
        expect((await screenshot(page)).length).toBeGreaterThan(blank.length * 2);
      }

      source.set(verdict('regressed'), 'superseded');
      await waitFor(() => sink.notices.length === 2, 'the resolved notice');
      expect(sink.received.map((n) => [n.payload.status, n.verified])).toEqual([
        ['firing', true],
        ['resolved', true],
      ]);
      const text = await metrics();
      expect(
        metricValue(text, 'edge_relay_version_actions_total', { action: 'webhook', outcome: 'delivered' }),
      ).toBe(2);
      expect(
        metricValue(text, 'edge_relay_version_actions_total', { action: 'rollback', outcome: 'activated' }),
      ).toBe(1);
      expect(api.posts).toHaveLength(1);
    } finally {
      await sink.close();
    }
  });
});
