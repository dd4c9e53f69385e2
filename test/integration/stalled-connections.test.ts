import { afterEach, describe, expect, it } from 'vitest';
import { uniqueBeacon } from '../support/beacons.ts';
import { faultConfig } from '../support/fault-config.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RawConnection } from '../support/raw-connection.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { waitFor } from '../support/wait-for.ts';

const MIB = 1024 * 1024;
const TOKEN = 'stalled-connections-test-token';

// Generous: these start relay processes on a shared 2-core machine.
describe('stalled and surplus connections', { timeout: 180_000 }, () => {
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function start(receiver: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const sink = await OtlpSink.start();
    cleanup.push(() => sink.close());
    const relay = await RelayProcess.start(
      faultConfig(sink.url, {}, { receiver: { endpoint: '127.0.0.1:0', ...receiver }, ...extra }),
    );
    cleanup.push(() => relay.stop());
    return relay;
  }

  async function openMany(relay: RelayProcess, count: number): Promise<RawConnection[]> {
    const connections: RawConnection[] = [];
    for (let i = 0; i < count; i++) connections.push(await RawConnection.open(relay.receiverPort));
    cleanup.push(() => {
      for (const connection of connections) connection.close();
    });
    return connections;
  }

  /** Whether a beacon is acknowledged; a connection cut (the cap, before the relay sees ours go) is a no. */
  const accepts = (relay: RelayProcess, n: number, headers: Record<string, string> = {}) =>
    relay.post('/v1/beacons', uniqueBeacon(n, 4).text, headers).then(
      (response) => response.status === 202,
      () => false,
    );

  it('cuts bodies stalled past read_timeout with 408, and the memory they held is freed', async () => {
    // 200 stalled 1 MiB bodies are far over the soft limit of 120 MiB (about 60 MB in use idle).
    const relay = await start(
      { auth: { tokens: [TOKEN] }, max_request_body_size: 2 * MIB, read_timeout: '5s' },
      {
        memory_limiter: {
          check_interval: '100ms',
          limit_mib: 200,
          spike_limit_mib: 80,
          min_gc_interval_when_soft_limited: '500ms',
        },
      },
    );
    const connections = await openMany(relay, 200);
    await Promise.all(
      connections.map((c) => c.stallPost('/v1/traces', 1.5 * MIB, MIB, { Authorization: `Bearer ${TOKEN}` })),
    );

    // Those whose headers came once the limiter had seen the others' bodies were refused (429)
    // before their body was read; they too are cut at read_timeout.
    const answers = await Promise.all(connections.map((c) => c.closed));
    expect(answers.every((answer) => answer === '' || /^HTTP\/1\.1 (408|429) /.test(answer))).toBe(true);
    expect(answers.some((answer) => answer.startsWith('HTTP/1.1 408'))).toBe(true);
    // The limiter saw the bodies as memory in use while they were held, then saw it freed.
    expect(await relay.metric('edge_relay_memory_limiter_collections_total')).toBeGreaterThan(0);
    await waitFor(
      async () => (await relay.metric('edge_relay_memory_used_bytes')) < 100 * MIB,
      'the stalled bodies to be freed',
    );
    let n = 0;
    await waitFor(() => accepts(relay, n++, { Authorization: `Bearer ${TOKEN}` }), 'a beacon to be accepted');
    expect(await relay.metric('edge_relay_receiver_connections')).toBeLessThanOrEqual(2);
  });

  it('answers an unauthenticated body 401 without reading it, and closes the connection', async () => {
    // read_timeout is far away: only the 401 can close these.
    const relay = await start({ auth: { tokens: [TOKEN] }, read_timeout: '10m', read_header_timeout: '1m' });
    const connections = await openMany(relay, 50);
    await Promise.all(connections.map((c) => c.stallPost('/v1/traces', MIB, 256 * 1024)));

    const answers = await Promise.all(connections.map((c) => c.closed));
    expect(answers.every((answer) => answer === '' || answer.startsWith('HTTP/1.1 401'))).toBe(true);
    expect(answers.some((answer) => answer.startsWith('HTTP/1.1 401'))).toBe(true);
    expect(await relay.metric('edge_relay_requests_rejected_total', { reason: 'unauthorized' })).toBe(50);
    expect(await accepts(relay, 0, { Authorization: `Bearer ${TOKEN}` })).toBe(true);
  });

  it('closes connections past max_connections as they arrive, and serves again once they go', async () => {
    const relay = await start({ max_connections: 20 });
    const connections = await openMany(relay, 30);
    await waitFor(
      () => connections.filter((c) => !c.open).length === 10,
      'the relay to close the 10 connections past its cap',
    );
    expect(await relay.metric('edge_relay_requests_rejected_total', { reason: 'too_many_connections' })).toBe(
      10,
    );
    expect(await relay.metric('edge_relay_receiver_connections')).toBe(20);
    for (const connection of connections) connection.close();
    let n = 0;
    await waitFor(() => accepts(relay, n++), 'a beacon to be accepted');
  });
});
