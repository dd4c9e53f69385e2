import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { expectDelivered, settledAccounting } from '../support/accounting.ts';
import { postBeacons, SPANS_PER_BEACON } from '../support/beacons.ts';
import { faultConfig } from '../support/fault-config.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { waitFor } from '../support/wait-for.ts';

const OUTAGE_MS = 30_000;

// Generous: these start relay processes on a shared 2-core machine.
describe('the backend is unavailable for a while', { timeout: 180_000 }, () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it(
    'keeps every acknowledged span through a 30 s outage and delivers it when the sink returns',
    async () => {
      const first = await OtlpSink.start();
      const port = Number(new URL(first.url).port);
      const relay = await RelayProcess.start(faultConfig(first.url));
      cleanup.push(() => relay.stop());
      await first.close();

      const outageStarted = Date.now();
      const { acknowledged } = await postBeacons(relay, { count: 300 });
      expect(acknowledged).toHaveLength(300 * SPANS_PER_BEACON);
      await waitFor(
        async () =>
          (await relay.metric('edge_relay_export_requests_total', { outcome: 'retryable_error' })) > 2,
        'the relay to retry against the absent sink',
      );
      // The outage itself: its length is what the test is about, so this wait is the scenario, not a sync.
      await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStarted)));
      expect(await relay.metric('edge_relay_spans_exported_total')).toBe(0);

      const sink = await OtlpSink.start(port);
      cleanup.push(() => sink.close());
      const accounting = await settledAccounting(relay, 30_000);
      expect(accounting.droppedTotal).toBe(0);
      expectDelivered(acknowledged, sink, accounting);
    },
    OUTAGE_MS + 90_000,
  );

  it('waits as long as a 429 Retry-After asks before sending again', async () => {
    const sink = await OtlpSink.start();
    cleanup.push(() => sink.close());
    const arrivals: number[] = [];
    sink.reply = () => {
      arrivals.push(Date.now());
      return arrivals.length === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 };
    };
    // Backoff alone would retry after ~100 ms: only the Retry-After can explain a 2 s gap.
    const relay = await RelayProcess.start(
      faultConfig(
        sink.url,
        { sending_queue: { num_consumers: 1 } },
        { batch: { send_batch_size: 6, timeout: '10ms' } },
      ),
    );
    cleanup.push(() => relay.stop());

    const { acknowledged } = await postBeacons(relay, { count: 1, concurrency: 1 });
    const accounting = await settledAccounting(relay);
    expect(arrivals).toHaveLength(2);
    expect((arrivals[1] as number) - (arrivals[0] as number)).toBeGreaterThanOrEqual(1990);
    expect(accounting.droppedTotal).toBe(0);
    expectDelivered(acknowledged, sink, accounting);
  });

  it('drops a batch as retry_exhausted once max_elapsed_time has passed, counting every span', async () => {
    const sink = await OtlpSink.start();
    cleanup.push(() => sink.close());
    sink.reply = () => ({ status: 503 });
    const relay = await RelayProcess.start(
      faultConfig(sink.url, {
        retry_on_failure: { initial_interval: '50ms', max_interval: '100ms', max_elapsed_time: '500ms' },
      }),
    );
    cleanup.push(() => relay.stop());

    const { acknowledged } = await postBeacons(relay, { count: 20 });
    const accounting = await settledAccounting(relay);
    expect(accounting.dropped.retry_exhausted).toBe(acknowledged.length);
    expect(accounting.exported).toBe(0);
  });
});
