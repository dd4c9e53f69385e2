import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Tally } from '../../src/telemetry/accounting.ts';
import { expectDelivered, readAccounting, settledAccounting } from '../support/accounting.ts';
import { postBeacons, SPANS_PER_BEACON } from '../support/beacons.ts';
import { faultConfig } from '../support/fault-config.ts';
import { seeded } from '../support/fuzz-cases.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { spansOnDisk } from '../support/storage-dir.ts';
import { waitFor } from '../support/wait-for.ts';

// `npm run test:wal-kill` runs the kill test with 10 trials; `npm test` runs 3.
const TRIALS = Number(process.env.WAL_KILL_TRIALS ?? 3);
const SEED = Number(process.env.WAL_KILL_SEED ?? 20);

const tempDir = (name: string) => join(mkdtempSync(join(tmpdir(), `edge-relay-${name}-`)), name);

function walConfig(
  sinkUrl: string,
  directory: string,
  exporter: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
  wal: Record<string, unknown> = {},
) {
  return faultConfig(sinkUrl, exporter, {
    receiver: { endpoint: '127.0.0.1:0', durability: 'wal', wal: { directory, ...wal } },
    ...extra,
  });
}

const walBytes = (directory: string) =>
  readdirSync(directory).reduce((sum, name) => sum + statSync(join(directory, name)).size, 0);

const replayedSpans = (relay: RelayProcess): number =>
  relay.logLines().reduce((sum, line) => {
    const replayed = String(line.msg).startsWith('replayed the write-ahead log');
    return sum + (replayed ? (line.spans as number) : 0);
  }, 0);

// Generous: these start many relay processes on a shared 2-core machine.
describe('the write-ahead log (receiver.durability: wal)', { timeout: 300_000 }, () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it(`loses no acknowledged span across ${TRIALS} SIGKILLs at seeded random moments under load`, async () => {
    const random = seeded(SEED);
    const directory = tempDir('wal');
    const sink = await OtlpSink.start();
    cleanup.push(() => sink.close());
    // A backend slow enough that spans wait in the sending queue, and a decision window that holds
    // them in the sampler: what a SIGKILL lost before the log existed.
    sink.reply = async () => {
      await sleep(20);
      return { status: 200 };
    };
    const config = walConfig(
      sink.url,
      directory,
      {},
      { tail_sampling: { decision_wait: '1s', policies: [{ name: 'all', type: 'always_sample' }] } },
    );
    const acknowledged: string[] = [];
    let recovered = 0;
    let relay = await RelayProcess.start(config);
    for (let trial = 0; trial < TRIALS; trial++) {
      // The kill comes with the n-th acknowledgement, n seeded: requests are in flight at that moment,
      // some waiting for their commit, and spans are in every stage of the pipeline.
      const killAt = 50 + Math.floor(random() * 450);
      const victim = relay;
      let killed = false;
      const posted = await postBeacons(victim, {
        count: 5_000,
        concurrency: 16,
        run: trial + 1,
        stop: () => killed,
        onAcknowledged: (beacons) => {
          if (beacons < killAt || killed) return;
          killed = true;
          victim.child.kill('SIGKILL');
        },
      });
      expect(killed).toBe(true);
      await victim.stop('SIGKILL');
      acknowledged.push(...posted.acknowledged);
      relay = await RelayProcess.start(config);
      recovered += replayedSpans(relay);
    }
    cleanup.push(() => relay.stop());
    const promised = new Set(acknowledged);
    const missing = await waitFor(
      () => {
        const arrived = new Set(sink.spans().map((s) => s.spanId));
        const lost = [...promised].filter((id) => !arrived.has(id));
        return lost.length === 0 ? lost : undefined;
      },
      'every acknowledged span to reach the sink',
      120_000,
    ).catch(() => [...promised].filter((id) => !new Set(sink.spans().map((s) => s.spanId)).has(id)));
    expect(missing).toEqual([]);
    // Every kill found spans not yet settled, and the next start replayed them.
    expect(recovered).toBeGreaterThan(0);
    const accounting = await settledAccounting(relay);
    expect(accounting.recovered).toBe(replayedSpans(relay));
    const delivered = sink.spans().length;
    console.log(
      `write-ahead log, ${TRIALS} SIGKILLs (seed ${SEED}): ${promised.size} spans acknowledged, 0 lost, ` +
        `${recovered} replayed, ${delivered - new Set(sink.spans().map((s) => s.spanId)).size} delivered twice`,
    );
  });

  it('counts a span once when it was both in the log and in the persistent queue at a SIGKILL', async () => {
    const directory = tempDir('wal');
    const storage = tempDir('queue');
    const first = await OtlpSink.start();
    const url = first.url;
    await first.close();
    // The backend is down: every span ends in the persistent queue, which settles it for the log. The
    // segment stays open however slow the machine, so that the kill finds its spans in both places.
    const config = walConfig(url, directory, { sending_queue: { storage } }, {}, { segment_max_age: '1h' });
    const killed = await RelayProcess.start(config);
    cleanup.push(() => killed.stop('SIGKILL'));
    const { acknowledged } = await postBeacons(killed, { count: 300, concurrency: 16 });
    expect(acknowledged).toHaveLength(300 * SPANS_PER_BEACON);
    await waitFor(() => spansOnDisk(storage) === acknowledged.length, 'every span in the queue');
    await killed.stop('SIGKILL');

    const sink = await OtlpSink.start(Number(new URL(url).port));
    cleanup.push(() => sink.close());
    const relay = await RelayProcess.start(config);
    cleanup.push(() => relay.stop());
    // Recovery (log replay and queue) is counted as the workers take it up: the identity balances at each
    // step, so wait for all of it before reading the settled state.
    await waitFor(
      async () => (await readAccounting(relay)).recovered >= acknowledged.length,
      'the log replay and the queue to recover every acknowledged span',
    );
    const accounting = await settledAccounting(relay);
    // The open segment was replayed (its spans were in the queue too): those batches were left unread.
    expect(replayedSpans(relay)).toBeGreaterThan(0);
    expect(accounting.recovered).toBe(acknowledged.length);
    expect(accounting.droppedTotal).toBe(0);
    expectDelivered(acknowledged, sink, { ...accounting, received: accounting.recovered });
    expect(sink.spans()).toHaveLength(acknowledged.length);
  });

  it('on SIGTERM settles everything, leaves an empty log and replays nothing at the next start', async () => {
    const directory = tempDir('wal');
    const sink = await OtlpSink.start();
    cleanup.push(() => sink.close());
    const config = walConfig(sink.url, directory);
    const relay = await RelayProcess.start(config);
    const { acknowledged } = await postBeacons(relay, { count: 200, concurrency: 16 });
    expect(await relay.stop('SIGTERM')).toBe(0);
    const tally = relay.logLines().find((line) => line.msg === 'edge-relay stopped') as unknown as Tally;
    expect(tally.exported).toBe(acknowledged.length);
    expect(tally.unaccounted).toBe(0);
    expect(walBytes(directory)).toBe(0);

    const restarted = await RelayProcess.start(config);
    cleanup.push(() => restarted.stop());
    expect(replayedSpans(restarted)).toBe(0);
    expect((await readAccounting(restarted)).recovered).toBe(0);
  });

  it('deletes the segments of spans tail sampling drops without ever reading them', async () => {
    const directory = tempDir('wal');
    const sink = await OtlpSink.start();
    cleanup.push(() => sink.close());
    // 0% drops every trace on its beacons' facts alone; those spans settle from the facts' segments.
    const policies = [{ name: 'none', type: 'probabilistic', probabilistic: { sampling_percentage: 0 } }];
    const config = walConfig(
      sink.url,
      directory,
      {},
      { tail_sampling: { decision_wait: '1s', policies } },
      { segment_max_bytes: 65536 },
    );
    const relay = await RelayProcess.start(config);
    cleanup.push(() => relay.stop());
    const { acknowledged } = await postBeacons(relay, { count: 1_000, concurrency: 16 });
    expect(walBytes(directory)).toBeGreaterThan(2 * 65536);
    await waitFor(
      async () => (await readAccounting(relay)).sampledOut === acknowledged.length,
      'every acknowledged span to be sampled out',
      60_000,
    );
    await waitFor(
      async () => (await relay.metric('edge_relay_wal_bytes')) < 65536,
      'the settled segments to be deleted',
    );
    expect((await readAccounting(relay)).exported).toBe(0);
  });

  it('refuses with 429 while the log is full, and accepts again once its spans settle', async () => {
    const directory = tempDir('wal');
    const first = await OtlpSink.start();
    const url = first.url;
    await first.close();
    // Without storage and with the backend down, nothing settles: the log only grows.
    const config = walConfig(url, directory, {}, {}, { max_bytes: 1048576, segment_max_bytes: 65536 });
    const relay = await RelayProcess.start(config);
    cleanup.push(() => relay.stop());
    const full = await postBeacons(relay, { count: 3_000, concurrency: 8 });
    expect(full.statuses.get(429)).toBeGreaterThan(0);
    expect(walBytes(directory)).toBeLessThan(1048576 + 65536);

    const sink = await OtlpSink.start(Number(new URL(url).port));
    cleanup.push(() => sink.close());
    await waitFor(
      async () => (await readAccounting(relay)).exported === full.acknowledged.length,
      'the acknowledged spans to be exported',
      60_000,
    );
    await waitFor(
      async () => (await relay.metric('edge_relay_wal_bytes')) < 65536,
      'the settled segments to be deleted',
    );
    const again = await postBeacons(relay, { from: 10_000, count: 20 });
    expect(again.statuses.get(202)).toBe(20);
  });
});
