import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readAccounting, settledAccounting } from '../support/accounting.ts';
import { type PostResult, postBeacons, uniqueBeacon } from '../support/beacons.ts';
import { faultConfig } from '../support/fault-config.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { spansOnDisk } from '../support/storage-dir.ts';
import { Tmpfs } from '../support/tmpfs.ts';
import { waitFor } from '../support/wait-for.ts';

const KIB = 1024;

// These mount a tmpfs to have a disk that really fills up: root (or CAP_SYS_ADMIN) only.
describe.skipIf(!Tmpfs.available())(
  'the persistent sending queue on a full disk',
  { timeout: 180_000 },
  () => {
    const cleanup: (() => Promise<unknown> | unknown)[] = [];
    afterEach(async () => {
      for (const step of cleanup.splice(0).reverse()) await step();
    });

    function mount(bytes: number): Tmpfs {
      const disk = Tmpfs.mount(bytes) as Tmpfs;
      cleanup.push(() => disk.unmount());
      return disk;
    }

    /** Posts one beacon after another until an answer is `wanted`; every acknowledged span is recorded. */
    async function postUntil(
      relay: RelayProcess,
      wanted: RegExp,
      from: number,
      acknowledged: string[],
    ): Promise<void> {
      let n = from;
      await waitFor(async () => {
        const { text, spanIds } = uniqueBeacon(n++, 2);
        const response = await relay.post('/v1/beacons', text);
        const answer = `${response.status} ${await response.text()}`;
        if (response.status === 202) acknowledged.push(...spanIds);
        return wanted.test(answer);
      }, `an answer matching ${wanted}`);
    }

    it('sheds with 429 before a full disk drops anything, and takes data again once the queue drains', async () => {
      const disk = mount(1024 * KIB);
      const storage = join(disk.dir, 'queue');
      const down = await OtlpSink.start();
      const url = down.url;
      await down.close();
      // storage_max_bytes stays at its 1 GiB default: only the filesystem bounds the queue.
      const relay = await RelayProcess.start(faultConfig(url, { sending_queue: { storage } }));
      cleanup.push(() => relay.stop());

      // Posting goes on for 50 rounds after the first refusal: pressure that lasts must not overflow it.
      const results: PostResult[] = [];
      let firstRefused = -1;
      for (let tick = 0; tick < 2000 && (firstRefused < 0 || tick < firstRefused + 50); tick++) {
        results.push(await postBeacons(relay, { from: tick * 20, count: 20, concurrency: 10 }));
        if (firstRefused < 0 && results.at(-1)?.statuses.has(429)) firstRefused = tick;
      }
      const acknowledged = results.flatMap((r) => r.acknowledged);
      expect(results.every((r) => [...r.statuses.keys()].every((s) => s === 202 || s === 429))).toBe(true);
      expect(firstRefused).toBeGreaterThanOrEqual(0);
      // Every acknowledged span reaches the disk: nothing was dropped for want of space.
      const queued = await waitFor(async () => {
        const a = await readAccounting(relay);
        return a.received === a.droppedTotal + a.inFlight && spansOnDisk(storage) === a.inFlight && a;
      }, 'every acknowledged span to be on disk or dropped');
      expect(queued.received).toBe(acknowledged.length);
      expect(queued.dropped).toEqual(Object.fromEntries(Object.keys(queued.dropped).map((k) => [k, 0])));

      const sink = await OtlpSink.start(Number(new URL(url).port));
      cleanup.push(() => sink.close());
      await postUntil(relay, /^202/, 0, acknowledged);
      const accounting = await settledAccounting(relay);
      expect(accounting.received).toBe(acknowledged.length);
      expect(accounting.exported).toBe(acknowledged.length);
      expect(new Set(sink.spans().map((s) => s.spanId)).size).toBe(acknowledged.length);
      expect(spansOnDisk(storage)).toBe(0);
    });

    it('refuses with 429 while batch writes fail, leaves no broken batch file, and recovers when space returns', async () => {
      const disk = mount(1024 * KIB);
      const storage = join(disk.dir, 'queue');
      const sink = await OtlpSink.start();
      cleanup.push(() => sink.close());
      // Uncompressed, and batched for 2 s, so that a batch is larger than the one page left below
      // however slowly a loaded machine takes the beacons (one beacon a batch would fit): its write is
      // cut short. Spans wait for their sampling decision, which admission does not count as bound for
      // the disk: beacons are taken while the disk is full, and the writes fail once the traces are
      // decided. Five seconds: the 20 beacons below must all be in before then, however loaded the machine.
      const relay = await RelayProcess.start(
        faultConfig(
          sink.url,
          { compression: 'none', sending_queue: { storage } },
          {
            workers: { threads: 1 },
            batch: { timeout: '2s' },
            tail_sampling: { decision_wait: '5s', policies: [{ name: 'all', type: 'always_sample' }] },
          },
        ),
      );
      cleanup.push(() => relay.stop());
      const filler = disk.fill(4 * KIB);

      // A loaded machine may refuse a few for the hand-off not yet taken up (it counts as bound for the
      // disk until a worker has read it): those are posted again, as a client would after Retry-After.
      const acknowledged: string[] = [];
      let next = 0;
      await waitFor(async () => {
        const { text, spanIds } = uniqueBeacon(next++);
        const response = await relay.post('/v1/beacons', text);
        await response.arrayBuffer();
        if (response.status === 202) acknowledged.push(...spanIds);
        else expect(response.status).toBe(429);
        return acknowledged.length === 20 * spanIds.length;
      }, '20 beacons taken while the disk is full');
      await postUntil(relay, /^429 .*storage/, 1000, acknowledged);
      expect(await relay.metric('edge_relay_admission_shedding', { reason: 'storage' })).toBe(1);
      expect(await relay.metric('edge_relay_sending_queue_storage_failing')).toBe(1);
      // Not ready while storage fails, so that a load balancer sends the traffic to other replicas.
      const readiness = await fetch(`http://127.0.0.1:${relay.adminPort}/readyz`);
      expect([readiness.status, await readiness.json()]).toEqual([
        503,
        { status: 'not ready', reason: 'storage cannot be written' },
      ]);
      const failed = await settledAccounting(relay);
      expect(failed.dropped.storage_error).toBeGreaterThan(0);
      expect(failed.dropped.storage_corrupt).toBe(0);
      expect(failed.exported + failed.dropped.storage_error).toBe(acknowledged.length);
      // A failed write removes what it began: no empty or torn record waits to be replayed.
      expect(readdirSync(join(storage, 'shard-0'))).toEqual([]);

      rmSync(filler);
      await postUntil(relay, /^202/, 2000, acknowledged);
      const recovered = await settledAccounting(relay);
      expect(recovered.received).toBe(acknowledged.length);
      expect(recovered.dropped.storage_error).toBe(failed.dropped.storage_error);
      expect(recovered.exported).toBe(acknowledged.length - failed.dropped.storage_error);
      expect(await relay.metric('edge_relay_admission_shedding', { reason: 'storage' })).toBe(0);
      expect((await fetch(`http://127.0.0.1:${relay.adminPort}/readyz`)).status).toBe(200);
    });
  },
);
