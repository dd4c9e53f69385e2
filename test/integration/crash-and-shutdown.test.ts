import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Tally } from '../../src/telemetry/accounting.ts';
import { expectDelivered, readAccounting, settledAccounting } from '../support/accounting.ts';
import { postBeacons, SPANS_PER_BEACON } from '../support/beacons.ts';
import { faultConfig } from '../support/fault-config.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { spansOnDisk, tearOneRecord } from '../support/storage-dir.ts';
import { waitFor } from '../support/wait-for.ts';

const storageDir = () => join(mkdtempSync(join(tmpdir(), 'edge-relay-storage-')), 'queue');

// Generous: these start relay processes on a shared 2-core machine.
describe('the persistent sending queue across kills and shutdowns', { timeout: 180_000 }, () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /**
   * With the sink down, queues `count` beacons to disk and SIGKILLs the relay; `restart` brings the
   * sink back on its old port and starts a relay on the same storage.
   */
  async function queueThenKill(count: number) {
    const storage = storageDir();
    const first = await OtlpSink.start();
    const url = first.url;
    await first.close();
    const config = faultConfig(url, { sending_queue: { storage } });
    const killed = await RelayProcess.start(config);
    cleanup.push(() => killed.stop('SIGKILL'));
    const { acknowledged } = await postBeacons(killed, { count });
    expect(acknowledged).toHaveLength(count * SPANS_PER_BEACON);
    await waitFor(
      () => spansOnDisk(storage) === acknowledged.length,
      'every acknowledged span to be on disk',
    );
    expect(await killed.stop('SIGKILL')).toBe(null);
    const restart = async () => {
      const sink = await OtlpSink.start(Number(new URL(url).port));
      cleanup.push(() => sink.close());
      const relay = await RelayProcess.start(config);
      cleanup.push(() => relay.stop());
      return { sink, relay, accounting: await settledAccounting(relay) };
    };
    return { storage, acknowledged, restart };
  }

  it('delivers, after a SIGKILL and a restart on the same storage, every span queued while the sink was down', async () => {
    const { storage, acknowledged, restart } = await queueThenKill(400);
    const { sink, accounting } = await restart();
    expect(accounting.recovered).toBe(acknowledged.length);
    expect(accounting.received).toBe(0);
    expect(accounting.droppedTotal).toBe(0);
    expectDelivered(acknowledged, sink, { ...accounting, received: accounting.recovered });
    expect(spansOnDisk(storage)).toBe(0);
  });

  it('loses only a record torn by a crash, counting its spans as storage_corrupt, and replays the rest', async () => {
    const { storage, acknowledged, restart } = await queueThenKill(100);
    // What a write cut short by the kill leaves behind: a record shorter than its header says.
    const torn = tearOneRecord(storage);
    const { sink, relay, accounting } = await restart();
    expect(accounting.recovered).toBe(acknowledged.length);
    expect(accounting.dropped.storage_corrupt).toBe(torn.spans);
    expect(accounting.exported).toBe(acknowledged.length - torn.spans);
    expect(await relay.metric('edge_relay_storage_corrupt_records_total')).toBe(1);
    expect(new Set(sink.spans().map((s) => s.spanId)).size).toBe(accounting.exported);
  });

  it('on SIGTERM under load, delivers or persists every acknowledged span, and the next start sends the rest', async () => {
    const storage = storageDir();
    const sink = await OtlpSink.start();
    cleanup.push(() => sink.close());
    // The backend answers until the SIGTERM, then stops answering until the restart: whatever the
    // relay has not delivered by then must be on disk.
    let release: (() => void) | undefined;
    const stalled = new Promise<void>((resolve) => {
      release = resolve;
    });
    let stalling = false;
    sink.reply = async () => {
      if (stalling) await stalled;
      return { status: 200 };
    };
    const config = faultConfig(
      sink.url,
      { sending_queue: { storage, num_consumers: 1 } },
      { shutdown_timeout: '1s' },
    );
    const relay = await RelayProcess.start(config);
    cleanup.push(() => relay.stop());

    const load = postBeacons(relay, { count: 20_000, stop: () => relay.child.exitCode !== null });
    await waitFor(
      async () => (await relay.metric('edge_relay_export_requests_total', { outcome: 'success' })) >= 2,
      'export to be under way',
    );
    stalling = true;
    const stopping = relay.stop('SIGTERM');
    const posted = await load;
    expect(await stopping).toBe(0);
    // Posting went on during the drain: new beacons were refused (503), never acknowledged and lost.
    expect([...posted.statuses.keys()].every((status) => status === 202 || status === 503)).toBe(true);

    const tally = relay.logLines().find((line) => line.msg === 'edge-relay stopped') as unknown as Tally;
    expect(tally.received).toBe(posted.acknowledged.length);
    expect(tally.unaccounted).toBe(0);
    expect(tally.in_flight).toBe(tally.queued);
    expect(tally.exported + tally.queued).toBe(posted.acknowledged.length);
    expect(tally.queued).toBeGreaterThan(0);
    expect(spansOnDisk(storage)).toBe(tally.queued);

    stalling = false;
    release?.();
    const restarted = await RelayProcess.start(config);
    cleanup.push(() => restarted.stop());
    const accounting = await settledAccounting(restarted);
    expect(accounting.recovered).toBe(tally.queued);
    const delivered = new Set(sink.spans().map((s) => s.spanId));
    expect(posted.acknowledged.filter((id) => !delivered.has(id))).toEqual([]);
    expect((await readAccounting(restarted)).droppedTotal).toBe(0);
  });
});
