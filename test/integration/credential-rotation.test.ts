import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as pause } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { expectDelivered, settledAccounting } from '../support/accounting.ts';
import { uniqueBeacon } from '../support/beacons.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { SecretVolume } from '../support/secret-volume.ts';
import { waitFor } from '../support/wait-for.ts';

const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;

const TOKEN_A = 'edge-token-a-7f3c9e2b41d8';
const TOKEN_B = 'edge-token-b-5a1e0c6d93f4';
const LIGHTSTEP_OLD = 'lightstep-old-9c2e4f7a1b3d';
const LIGHTSTEP_NEW = 'lightstep-new-3d8b6a0e5c2f';
const SECRETS = [TOKEN_A, TOKEN_B, LIGHTSTEP_OLD, LIGHTSTEP_NEW];
/** How long the old beacon token stays valid after the rotation is published. */
const OVERLAP_MS = 3000;

interface Answer {
  status: number;
  sentAt: number;
  answeredAt: number;
}

/**
 * An EdgeWorker fleet sending with one token: beacons one after another on a few lanes, paced so the
 * load is steady rather than saturating, until stopped (or `max` beacons: the loop is bounded).
 */
class EdgeClient {
  readonly answers: Answer[] = [];
  readonly acknowledged: string[] = [];
  readonly done: Promise<void>;
  #stopped = false;

  constructor(relay: RelayProcess, token: string, run: number, { lanes = 2, max = 20_000 } = {}) {
    let next = 0;
    const lane = async () => {
      while (!this.#stopped && next < max) {
        const { text, spanIds } = uniqueBeacon(next++, run);
        const sentAt = Date.now();
        const response = await relay.post('/v1/beacons', text, { authorization: `Bearer ${token}` });
        await response.arrayBuffer();
        this.answers.push({ status: response.status, sentAt, answeredAt: Date.now() });
        if (response.status === 202) this.acknowledged.push(...spanIds);
        await pause(10);
      }
    };
    this.done = Promise.all(Array.from({ length: lanes }, lane)).then(() => undefined);
  }

  stop(): Promise<void> {
    this.#stopped = true;
    return this.done;
  }
}

const logged = (relay: RelayProcess, msg: string) =>
  waitFor(() => relay.logLines().find((line) => line.msg === msg), `the log line "${msg}"`);

function rewriteConfig(relay: RelayProcess, change: (config: Record<string, any>) => void): void {
  const config = parse(readFileSync(relay.configFile, 'utf8'));
  change(config);
  writeFileSync(relay.configFile, stringify(config));
}

const verify = (file: string) =>
  spawnSync(process.execPath, [CLI, 'audit', 'verify', file], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
  });

describe('credentials rotated live', () => {
  let relay: RelayProcess | undefined;
  let sink: OtlpSink | undefined;
  afterEach(async () => {
    await relay?.stop();
    await sink?.close();
  });

  it('rotates the beacon token and the Lightstep token under load through file changes, losing no span, with a verifiable audit log free of secrets', async () => {
    // The backend takes one Lightstep token at a time; a revoked one gets 401.
    let lightstepAccepted = LIGHTSTEP_OLD;
    let refusals = 0;
    sink = await OtlpSink.start();
    sink.reply = (request) => {
      if (request.headers['lightstep-access-token'] === lightstepAccepted) return { status: 200 };
      refusals++;
      return { status: 401 };
    };
    const volume = new SecretVolume({ 'edge-a': TOKEN_A, lightstep: LIGHTSTEP_OLD });
    const ref = (key: string) => `\${file:${volume.path(key)}}`;
    const auditPath = join(mkdtempSync(join(tmpdir(), 'edge-relay-audit-')), 'audit.jsonl');
    relay = await RelayProcess.start({
      receiver: { endpoint: '127.0.0.1:0', auth: { tokens: [{ id: 'edge-a', value: ref('edge-a') }] } },
      workers: { threads: 1 },
      batch: { timeout: '10ms' },
      exporter: {
        traces_endpoint: sink.url,
        headers: { 'lightstep-access-token': ref('lightstep') },
        retry_on_failure: { initial_interval: '50ms', max_interval: '200ms' },
      },
      audit: { path: auditPath },
    });
    const running = relay;

    // Beacon token: the Secret gains token B, and the config gives A a short remaining window.
    const a = new EdgeClient(running, TOKEN_A, 1);
    await waitFor(() => a.acknowledged.length >= 60, 'token A in steady use');
    volume.publish({ 'edge-a': TOKEN_A, 'edge-b': TOKEN_B, lightstep: LIGHTSTEP_OLD });
    const notAfter = Date.now() + OVERLAP_MS;
    rewriteConfig(running, (config) => {
      config.receiver.auth.tokens = [
        { id: 'edge-a', value: ref('edge-a'), not_after: new Date(notAfter).toISOString() },
        { id: 'edge-b', value: ref('edge-b') },
      ];
    });
    await logged(running, 'receiver tokens updated');
    const rotatedAt = Date.now();
    const b = new EdgeClient(running, TOKEN_B, 2);
    await waitFor(() => b.answers.length > 0, 'the first beacon with token B');
    expect(b.answers[0]?.status).toBe(202);
    await waitFor(() => a.answers.some((x) => x.status === 401), 'token A refused after its not_after');
    await a.stop();
    // One clock for both processes: answered before not_after means decided before it, sent after means after.
    for (const answer of a.answers) {
      if (answer.answeredAt < notAfter) expect(answer.status).toBe(202);
      if (answer.sentAt >= notAfter) expect(answer.status).toBe(401);
    }
    expect(a.answers.filter((x) => x.sentAt > rotatedAt && x.status === 202).length).toBeGreaterThan(0);

    // Lightstep token: the backend revokes the old one; batches are refused until the Secret changes.
    lightstepAccepted = LIGHTSTEP_NEW;
    await waitFor(() => refusals >= 3, 'exports refused with 401');
    const heldBatches = await running.metric('edge_relay_sending_queue_batches');
    volume.publish({ 'edge-a': TOKEN_A, 'edge-b': TOKEN_B, lightstep: LIGHTSTEP_NEW });
    await logged(running, 'exporter headers updated');
    const sentAfterChange = b.acknowledged.length;
    await waitFor(
      () => b.acknowledged.length > sentAfterChange + 60,
      'token B in use after the header change',
    );
    await b.stop();

    const accounting = await settledAccounting(running);
    expectDelivered([...a.acknowledged, ...b.acknowledged], sink, accounting);
    expect(accounting.droppedTotal).toBe(0);
    expect(heldBatches).toBeGreaterThan(0);
    expect(sink.requests.some((r) => r.headers['lightstep-access-token'] === LIGHTSTEP_NEW)).toBe(true);
    expect(await running.metric('edge_relay_export_requests_total', { outcome: 'unauthorized' })).toBe(
      refusals,
    );
    const refusal = running.logLines().find((l) => l.msg?.toString().startsWith('the backend refused'));
    expect(refusal?.refused_headers).toEqual(['lightstep-access-token']);
    expect(
      await running.metric('edge_relay_auth_requests_total', { token_id: 'edge-a', result: 'expired' }),
    ).toBeGreaterThan(0);
    expect(
      await running.metric('edge_relay_auth_requests_total', { token_id: 'edge-b', result: 'accepted' }),
    ).toBe(b.answers.filter((x) => x.status === 202).length);
    const metrics = await (await fetch(`http://127.0.0.1:${running.adminPort}/metrics`)).text();

    expect(await running.stop()).toBe(0);
    const audit = readFileSync(auditPath, 'utf8');
    for (const secret of SECRETS) {
      expect(audit).not.toContain(secret);
      expect(running.output).not.toContain(secret);
      expect(metrics).not.toContain(secret);
    }

    const records = audit
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, any>);
    const events = records.map((r) => `${r.event}${r.token_id ? `:${r.token_id}` : ''}`);
    expect(events[0]).toBe('relay.started');
    expect(events.at(-1)).toBe('relay.stopped');
    for (const event of [
      'token.first_use:edge-a',
      'token.changed:edge-a',
      'token.added:edge-b',
      'token.first_use:edge-b',
      'token.expired:edge-a',
      'token.last_use:edge-a',
      'token.last_use:edge-b',
      'auth.failures',
    ]) {
      expect(events).toContain(event);
    }
    const reloads = records.filter((r) => r.event === 'config.reloaded');
    expect(reloads.some((r) => r.applied.includes('receiver.auth'))).toBe(true);
    expect(reloads.some((r) => r.secret_keys.includes('exporter.headers.lightstep-access-token'))).toBe(true);
    const failures = records.find((r) => r.event === 'auth.failures');
    expect(failures?.sources[0]).toMatchObject({
      address: '127.0.0.1',
      results: { expired: expect.any(Number) },
    });

    const verified = verify(auditPath);
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stdout).toContain(`verified ${records.length} records`);

    // Editing a record, or deleting one, breaks the chain right there.
    const lines = audit.trimEnd().split('\n');
    const victim = 2;
    const copy = join(mkdtempSync(join(tmpdir(), 'edge-relay-audit-copy-')), 'audit.jsonl');
    writeFileSync(
      copy,
      `${lines.map((l, i) => (i === victim ? l.replace('"seq":3,', '"seq":3, ') : l)).join('\n')}\n`,
    );
    const edited = verify(copy);
    expect(edited.status).toBe(1);
    expect(edited.stderr).toContain(
      `${copy}:${victim + 1} (seq ${victim + 1}): the record's hash does not match`,
    );
    writeFileSync(copy, `${lines.filter((_, i) => i !== victim).join('\n')}\n`);
    const deleted = verify(copy);
    expect(deleted.status).toBe(1);
    expect(deleted.stderr).toContain(
      `${copy}:${victim + 1} (seq ${victim + 2}): seq ${victim + 2} follows seq ${victim}`,
    );
  });
});

describe('the audit log on stdout', () => {
  it('interleaves with the JSON logs, and the records filtered out of them verify', async () => {
    const relay = await RelayProcess.start({ audit: { path: 'stdout' }, workers: { threads: 1 } });
    expect(await relay.stop()).toBe(0);
    const records = relay.output.split('\n').filter((line) => line.startsWith('{"seq":'));
    expect(records.map((line) => JSON.parse(line).event)).toEqual(['relay.started', 'relay.stopped']);
    const file = join(mkdtempSync(join(tmpdir(), 'edge-relay-audit-stdout-')), 'audit.jsonl');
    writeFileSync(file, `${records.join('\n')}\n`);
    expect(verify(file).status).toBe(0);
  });
});
