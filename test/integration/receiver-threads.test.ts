import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { shardOf } from '../../src/handoff/shard-of.ts';
import { settledAccounting } from '../support/accounting.ts';
import { SPANS_PER_BEACON, uniqueBeacon } from '../support/beacons.ts';
import { faultConfig } from '../support/fault-config.ts';
import { stopThenRelease } from '../support/held-backend.ts';
import { OidcIssuer } from '../support/oidc-issuer.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { CLI, RelayProcess } from '../support/relay-process.ts';
import { waitFor } from '../support/wait-for.ts';
import { CRASH, WORKER_FAULT_HOOK } from '../support/worker-fault-hook.ts';

const TOKEN = 'receiver-threads-test-token';
/**
 * Beacons sent, each on a connection of its own. The kernel gives each new connection to one of the
 * listening threads by a hash of its addresses and ports (SO_REUSEPORT); if that spreads them evenly,
 * all 32 land on one of two threads with probability 2 × 2^-32, below 1e-9.
 */
const BEACONS = 32;
const REFUSED = 8;

/** One POST on a fresh connection (no keep-alive agent), so the kernel picks a thread for it. */
function postOnNewConnection(port: number, body: string, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    };
    const req = request(
      { host: '127.0.0.1', port, path: '/v1/beacons', method: 'POST', agent: false, headers },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('several receiver threads on one port', { timeout: 120_000 }, () => {
  it('each accepts its share, every beacon is counted once, and SIGTERM drains every thread', async () => {
    const sink = await OtlpSink.start();
    // What the sink gets, every thread's hand-off and every shard's buffers had to deliver while draining.
    const release = sink.hold();
    const relay = await RelayProcess.start({
      receiver: { threads: 2, auth: { tokens: [TOKEN] } },
      workers: { threads: 2 },
      batch: { timeout: '10ms' },
      exporter: { traces_endpoint: sink.url },
      shutdown_timeout: '20s',
    });
    try {
      expect(relay.logLines().find((line) => line.msg === 'edge-relay is ready')?.receivers).toBe(2);
      const acknowledged: string[] = [];
      for (let n = 0; n < BEACONS; n++) {
        const { text, spanIds } = uniqueBeacon(n);
        expect(await postOnNewConnection(relay.receiverPort, text, TOKEN)).toBe(202);
        acknowledged.push(...spanIds);
      }
      for (let n = 0; n < REFUSED; n++) {
        expect(await postOnNewConnection(relay.receiverPort, uniqueBeacon(BEACONS + n).text)).toBe(401);
      }

      const first = await relay.metric('edge_relay_receiver_requests_total', { thread: '0' });
      const second = await relay.metric('edge_relay_receiver_requests_total', { thread: '1' });
      expect(first > 0 && second > 0, `answered by thread: ${first}, ${second}`).toBe(true);
      expect(first + second).toBe(BEACONS + REFUSED);
      expect(await relay.metric('edge_relay_beacons_received_total', { result: 'accepted' })).toBe(BEACONS);
      expect(await relay.metric('edge_relay_spans_received_total', { result: 'accepted' })).toBe(
        acknowledged.length,
      );
      expect(await relay.metric('edge_relay_requests_rejected_total', { reason: 'unauthorized' })).toBe(
        REFUSED,
      );
      expect(sink.requests).toHaveLength(0);

      expect(await stopThenRelease(relay, release)).toBe(0);
      const delivered = sink.spans().map((span) => span.spanId);
      expect(delivered.length).toBe(acknowledged.length);
      expect(new Set(delivered)).toEqual(new Set(acknowledged));
      const tally = relay.logLines().find((line) => line.msg === 'edge-relay stopped');
      expect(tally).toMatchObject({ received: acknowledged.length, exported: acknowledged.length });
      expect(tally?.unaccounted).toBe(0);
    } finally {
      release();
      await relay.stop();
      await sink.close();
    }
  });
});

const OLD_TOKEN = 'receiver-threads-old-token';
const NEW_TOKEN = 'receiver-threads-new-token';

/** Unique beacons (of run `run`) whose traces belong to `shard` of two, `count` of them. */
function beaconsFor(shard: number, count: number, run: number) {
  const found: ReturnType<typeof uniqueBeacon>[] = [];
  for (let n = 0; found.length < count; n++) {
    const beacon = uniqueBeacon(n, run);
    if (shardOf((JSON.parse(beacon.text) as { traceId: string }).traceId, 2) === shard) found.push(beacon);
  }
  return found;
}

/** Requests each receiver thread has answered so far. */
const answered = async (relay: RelayProcess) =>
  Promise.all(['0', '1'].map((thread) => relay.metric('edge_relay_receiver_requests_total', { thread })));

describe('receiver threads through a reload and a shard restart', { timeout: 180_000 }, () => {
  it('every thread takes the reloaded tokens, and reaches the restarted shard on its new channel', async () => {
    const sink = await OtlpSink.start();
    const relay = await RelayProcess.start(
      faultConfig(
        sink.url,
        {},
        { receiver: { threads: 2, auth: { tokens: [{ id: 'old', value: OLD_TOKEN }] } } },
      ),
      {},
      { nodeArgs: ['--import', WORKER_FAULT_HOOK, CLI] },
    );
    try {
      const acknowledged: string[] = [];
      const send = async (beacons: ReturnType<typeof uniqueBeacon>[], token: string, status: number) => {
        for (const { text, spanIds } of beacons) {
          expect(await postOnNewConnection(relay.receiverPort, text, token)).toBe(status);
          if (status === 202) acknowledged.push(...spanIds);
        }
      };
      await send([...beaconsFor(0, 16, 1), ...beaconsFor(1, 16, 1)], OLD_TOKEN, 202);

      // The old token is replaced: the main thread reloads, and every receiver thread says it has the new set.
      const config = parse(readFileSync(relay.configFile, 'utf8'));
      config.receiver.auth.tokens = [{ id: 'new', value: NEW_TOKEN }];
      writeFileSync(relay.configFile, stringify(config));
      await waitFor(
        () =>
          relay.logLines().find((line) => line.msg === 'receiver tokens applied in every receiver thread'),
        'the reloaded tokens in every receiver thread',
      );
      const beforeRefusals = await answered(relay);
      await send(beaconsFor(0, BEACONS, 2), OLD_TOKEN, 401);
      const afterRefusals = await answered(relay);
      expect(
        afterRefusals.every((count, thread) => count > (beforeRefusals[thread] as number)),
        `refused by thread: ${beforeRefusals} → ${afterRefusals}`,
      ).toBe(true);
      await send(beaconsFor(1, 8, 3), NEW_TOKEN, 202);
      await waitFor(
        async () => (await relay.metric('edge_relay_spans_exported_total')) === acknowledged.length,
        'everything so far to be exported',
      );

      // Shard 0's thread dies on the next hand-off; it is restarted with a new channel from each thread.
      const crash = JSON.parse((beaconsFor(0, 1, 4)[0] as { text: string }).text);
      crash.spans[0].name = CRASH;
      expect(await postOnNewConnection(relay.receiverPort, JSON.stringify(crash), NEW_TOKEN)).toBe(202);
      await waitFor(
        async () => (await relay.metric('edge_relay_worker_restarts_total')) === 1,
        'the dead shard to be restarted',
      );
      const beforeRestarted = await answered(relay);
      const afterCrash = beaconsFor(0, BEACONS, 5);
      await send(afterCrash, NEW_TOKEN, 202);
      const afterRestarted = await answered(relay);
      expect(
        afterRestarted.every((count, thread) => count > (beforeRestarted[thread] as number)),
        `answered by thread: ${beforeRestarted} → ${afterRestarted}`,
      ).toBe(true);
      await waitFor(
        () => afterCrash.flatMap((b) => b.spanIds).every((id) => sink.spans().some((s) => s.spanId === id)),
        'the spans sent to the restarted shard through both threads at the sink',
      );

      const accounting = await settledAccounting(relay);
      expect(accounting.received).toBe(acknowledged.length + SPANS_PER_BEACON);
      expect(accounting.dropped.worker_crashed).toBe(SPANS_PER_BEACON);
      expect(accounting.exported).toBe(acknowledged.length);
      expect(
        await relay.metric('edge_relay_auth_requests_total', { token_id: 'old', result: 'accepted' }),
      ).toBe(32);
      expect(
        await relay.metric('edge_relay_auth_requests_total', { token_id: 'new', result: 'accepted' }),
      ).toBe(8 + 1 + BEACONS);
      expect(await relay.metric('edge_relay_auth_requests_total', { token_id: '', result: 'invalid' })).toBe(
        BEACONS,
      );
      expect(await relay.stop()).toBe(0);
      const tally = relay.logLines().find((line) => line.msg === 'edge-relay stopped');
      expect(tally?.unaccounted).toBe(0);
    } finally {
      await relay.stop();
      await sink.close();
    }
  });

  it("fetches the OIDC issuer's keys once for every thread, and once more for a rotation", async () => {
    const issuer = await OidcIssuer.start();
    await issuer.addKey('k1');
    const sink = await OtlpSink.start();
    const relay = await RelayProcess.start({
      receiver: {
        threads: 2,
        auth: {
          oidc: {
            issuer_url: issuer.url,
            audience: 'edge-relay',
            jwks_refresh_interval: '0s',
            jwks_min_refresh_interval: '1h',
          },
        },
      },
      exporter: { traces_endpoint: sink.url },
    });
    try {
      // Each beacon on a connection of its own: both threads verify tokens (see BEACONS).
      const postAll = async (token: string) => {
        const statuses: number[] = [];
        for (let n = 0; n < BEACONS; n++)
          statuses.push(await postOnNewConnection(relay.receiverPort, uniqueBeacon(n).text, token));
        return statuses;
      };
      expect(await postAll(await issuer.sign('k1'))).toEqual(Array(BEACONS).fill(202));
      // The supervisor's fetch at start, and none by the threads.
      expect(issuer.jwksRequests).toBe(1);
      await issuer.addKey('k2');
      issuer.retire('k1');
      expect(await postAll(await issuer.sign('k2'))).toEqual(Array(BEACONS).fill(202));
      // Every thread met the new kid and asked; the supervisor fetched once.
      expect(issuer.jwksRequests).toBe(2);
    } finally {
      await relay.stop();
      await sink.close();
      await issuer.close();
    }
  });
});
