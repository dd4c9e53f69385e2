import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { readAccounting, settledAccounting } from '../support/accounting.ts';
import { type PostResult, postBeacons } from '../support/beacons.ts';
import { faultConfig } from '../support/fault-config.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';

const MIB = 1024 * 1024;
const LIMIT_MIB = 1024;

// Generous: these start relay processes on a shared 2-core machine.
describe('overload', { timeout: 180_000 }, () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('at three times what the backend takes: 429s with Retry-After, bounded memory, the rest flows', async () => {
    // Capacity: 2 shards × 1 request in flight × 60 spans per 100 ms ≈ 1,200 spans/s (200 beacons/s).
    const sink = await OtlpSink.start();
    cleanup.push(() => sink.close());
    sink.reply = async () => {
      await sleep(100);
      return { status: 200 };
    };
    const relay = await RelayProcess.start(
      faultConfig(
        sink.url,
        { sending_queue: { num_consumers: 1, queue_size: 50 } },
        { memory_limiter: { check_interval: '50ms', limit_mib: LIMIT_MIB, spike_limit_mib: 256 } },
      ),
    );
    cleanup.push(() => relay.stop());

    // 600 beacons/s for 6 s (at most 30 s on a slow machine), in ticks of 30 beacons every 50 ms;
    // RSS sampled as it goes.
    const results: PostResult[] = [];
    let rssPeak = 0;
    const loadStarted = Date.now();
    for (let tick = 0; tick < 120 && Date.now() - loadStarted < 30_000; tick++) {
      const started = Date.now();
      results.push(await postBeacons(relay, { from: tick * 30, count: 30, concurrency: 30 }));
      if (tick % 10 === 0) rssPeak = Math.max(rssPeak, await relay.metric('process_resident_memory_bytes'));
      await sleep(Math.max(0, 50 - (Date.now() - started)));
    }
    const refused = results.reduce((n, r) => n + (r.statuses.get(429) ?? 0), 0);
    const acknowledged = results.flatMap((r) => r.acknowledged);
    const retryAfters = results.flatMap((r) => r.retryAfters);

    expect(relay.child.exitCode).toBe(null);
    expect(refused).toBeGreaterThan(0);
    expect(retryAfters).toHaveLength(refused);
    expect(retryAfters.every((s) => Number.isInteger(s) && s >= 1 && s <= 30)).toBe(true);
    expect(
      results.every((r) => r.unanswered === 0 && [...r.statuses.keys()].every((s) => s === 202 || s === 429)),
    ).toBe(true);
    expect(rssPeak).toBeGreaterThan(0);
    expect(rssPeak).toBeLessThan(LIMIT_MIB * MIB);

    const accounting = await settledAccounting(relay, 60_000);
    expect(accounting.received).toBe(acknowledged.length);
    expect(accounting.exported).toBeGreaterThan(0);
    // Shedding starts before the queue overflows, so acknowledged spans are rarely dropped; any that
    // are, are counted under queue_full and nothing else.
    expect(accounting.droppedTotal).toBe(accounting.dropped.queue_full);
    expect(await relay.metric('edge_relay_requests_rejected_total', { reason: 'overloaded' })).toBe(refused);
  }, 120_000);

  it('refuses new data with 429 while memory is over the soft limit, and keeps serving', async () => {
    const sink = await OtlpSink.start();
    cleanup.push(() => sink.close());
    // A limit below what any relay process uses: everything is over it.
    const relay = await RelayProcess.start(
      faultConfig(
        sink.url,
        {},
        { memory_limiter: { check_interval: '50ms', limit_mib: 40, spike_limit_mib: 8 } },
      ),
    );
    cleanup.push(() => relay.stop());

    const posted = await postBeacons(relay, { count: 50 });
    expect(posted.statuses.get(429)).toBe(50);
    const response = await relay.post('/v1/beacons', '{}');
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await response.json()) as { message: string }).message).toMatch(/memory limit/);
    expect(await relay.metric('edge_relay_admission_shedding', { reason: 'memory' })).toBe(1);
    expect((await fetch(`http://127.0.0.1:${relay.adminPort}/healthz`)).status).toBe(200);
    const accounting = await readAccounting(relay);
    expect(accounting.received).toBe(0);
    expect(accounting.inFlight).toBe(0);
  });
});
