import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { uniqueBeacon } from '../support/beacons.ts';
import { stopThenRelease } from '../support/held-backend.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';

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
