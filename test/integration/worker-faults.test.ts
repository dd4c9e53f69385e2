import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { shardOf } from '../../src/handoff/shard-of.ts';
import { settledAccounting } from '../support/accounting.ts';
import { SPANS_PER_BEACON, uniqueBeacon } from '../support/beacons.ts';
import { faultConfig } from '../support/fault-config.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { bytesField, otlpRequest, otlpSpan } from '../support/proto-tree.ts';
import { CLI, RelayProcess } from '../support/relay-process.ts';
import { spansOnDisk } from '../support/storage-dir.ts';
import { waitFor } from '../support/wait-for.ts';
import { CORRUPT, CRASH, GARBLE, WORKER_FAULT_HOOK } from '../support/worker-fault-hook.ts';

const PROTO = { 'content-type': 'application/x-protobuf' };
const hexId = (bytes: number): string => randomBytes(bytes).toString('hex');
const WITH_FAULTS = ['--import', WORKER_FAULT_HOOK, CLI];

/** A unique beacon whose first span is named `name` (a fault hook marker). */
function beaconNamed(n: number, name: string): { text: string; traceId: string } {
  const beacon = JSON.parse(uniqueBeacon(n, 7).text) as { traceId: string; spans: { name: string }[] };
  (beacon.spans[0] as { name: string }).name = name;
  return { text: JSON.stringify(beacon), traceId: beacon.traceId };
}

const traceIdOf = (text: string): string => (JSON.parse(text) as { traceId: string }).traceId;

/**
 * A span whose name claims 5 bytes more than the span holds: they are the scope's next field (a
 * schema URL of 5 bytes on the wire), so the length stays inside the body and the scope's end is
 * reached exactly. A decoder that bounds lengths by the body only takes this span and hands the
 * worker a copy of it that ends mid-field.
 */
const lyingSpanRequest = (): Buffer =>
  otlpRequest(
    [[...otlpSpan(hexId(16), hexId(8), 'x').slice(0, 2), bytesField(5, 'x', 5)]],
    [bytesField(3, 'abc')],
  );

// Generous: these start relay processes on a shared 2-core machine.
describe('faults inside a worker shard', { timeout: 120_000 }, () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function start(nodeArgs?: string[], exporter: Record<string, unknown> = {}) {
    const sink = await OtlpSink.start();
    cleanup.push(() => sink.close());
    const relay = await RelayProcess.start(faultConfig(sink.url, exporter), {}, nodeArgs ? { nodeArgs } : {});
    cleanup.push(() => relay.stop());
    return { sink, relay };
  }

  const validSpans = async (relay: RelayProcess, count: number): Promise<string[]> => {
    const ids = Array.from({ length: count }, () => hexId(8));
    const response = await relay.post(
      '/v1/traces',
      otlpRequest(ids.map((id) => otlpSpan(hexId(16), id, 'valid'))),
      PROTO,
    );
    expect(response.status).toBe(200);
    return ids;
  };

  it('refuses a field whose length runs past its span (not past the body) with 400, and stays up', async () => {
    const { sink, relay } = await start();
    const response = await relay.post('/v1/traces', lyingSpanRequest(), PROTO);
    expect(response.status).toBe(400);
    const ids = await validSpans(relay, 3);
    await waitFor(
      () => ids.every((id) => sink.spans().some((s) => s.spanId === id)),
      'the valid spans at the sink',
    );
    expect(relay.child.exitCode).toBe(null);
    const accounting = await settledAccounting(relay);
    expect(accounting.received).toBe(3);
    expect(accounting.droppedTotal).toBe(0);
  });

  it('counts spans a worker cannot read as dropped (decode_failed), and the shard goes on', async () => {
    const { sink, relay } = await start(WITH_FAULTS);
    const traceId = hexId(16);
    const corrupt = otlpRequest([otlpSpan(traceId, hexId(8), CORRUPT), otlpSpan(traceId, hexId(8), 'x')]);
    expect((await relay.post('/v1/traces', corrupt, PROTO)).status).toBe(200);
    expect((await relay.post('/v1/beacons', beaconNamed(1, GARBLE).text)).status).toBe(202);
    const dropped = 2 + SPANS_PER_BEACON;
    // Both taken up (and failed) before anything else is sent, so that no valid span shares their message.
    await waitFor(
      async () =>
        (await relay.metric('edge_relay_spans_dropped_total', { reason: 'decode_failed' })) === dropped,
      'the unreadable spans to be counted',
    );
    const ids = await validSpans(relay, 3);
    const beacon = uniqueBeacon(2, 7);
    expect((await relay.post('/v1/beacons', beacon.text)).status).toBe(202);
    const expected = [...ids, ...beacon.spanIds];
    await waitFor(
      () => expected.every((id) => sink.spans().some((s) => s.spanId === id)),
      'the later spans at the sink',
    );
    const accounting = await settledAccounting(relay);
    expect(accounting.received).toBe(dropped + expected.length);
    expect(accounting.dropped.decode_failed).toBe(dropped);
    expect(accounting.droppedTotal).toBe(dropped);
    expect(relay.child.exitCode).toBe(null);
    expect(
      relay
        .logLines()
        .filter((line) => line.msg === 'accepted spans could not be read in the worker; dropped'),
    ).toHaveLength(2);
  });

  it.each([
    ['in memory', false],
    ['on disk', true],
  ])(
    'restarts a worker whose thread dies, counting what it held as dropped (worker_crashed), and keeps serving (queue %s)',
    async (_, persistent) => {
      const storage = join(mkdtempSync(join(tmpdir(), 'edge-relay-crash-')), 'queue');
      const { sink, relay } = await start(WITH_FAULTS, persistent ? { sending_queue: { storage } } : {});
      // The backend holds every export until released: the spans sent so far stay in the shards' queues.
      const release = sink.hold();
      const before = Array.from({ length: 12 }, (_, n) => uniqueBeacon(100 + n, 7));
      for (const { text } of before) expect((await relay.post('/v1/beacons', text)).status).toBe(202);
      const sent = before.length * SPANS_PER_BEACON;
      await waitFor(
        async () =>
          (await relay.metric('edge_relay_sending_queue_spans')) === sent &&
          (!persistent || spansOnDisk(storage) === sent),
        'every span to be in a sending queue',
      );

      const crash = beaconNamed(200, CRASH);
      const shard = shardOf(crash.traceId, 2);
      const held =
        before.filter(({ text }) => shardOf(traceIdOf(text), 2) === shard).length * SPANS_PER_BEACON;
      expect((await relay.post('/v1/beacons', crash.text)).status).toBe(202);
      await waitFor(
        async () => (await relay.metric('edge_relay_worker_restarts_total')) === 1,
        'the dead shard to be restarted',
      );
      expect(await relay.metric('edge_relay_spans_dropped_total', { reason: 'worker_crashed' })).toBe(
        held + SPANS_PER_BEACON,
      );
      // What the dead shard had on disk its replacement replays, counted as recovered (as after a restart).
      const recovered = persistent ? held : 0;
      await waitFor(
        async () => (await relay.metric('edge_relay_sending_queue_spans')) === sent - held + recovered,
        "the dead shard's queue to be written off (and replayed from disk)",
      );

      release();
      // Beacons for both shards after the restart, the restarted one included, are delivered.
      const after = Array.from({ length: 12 }, (_, n) => uniqueBeacon(300 + n, 7));
      expect(new Set(after.map(({ text }) => shardOf(traceIdOf(text), 2))).size).toBe(2);
      for (const { text } of after) expect((await relay.post('/v1/beacons', text)).status).toBe(202);
      const delivered = after.flatMap((b) => b.spanIds);
      await waitFor(
        () => delivered.every((id) => sink.spans().some((s) => s.spanId === id)),
        'the spans sent after the restart at the sink',
      );
      const accounting = await settledAccounting(relay);
      expect(accounting.received).toBe(sent + SPANS_PER_BEACON + delivered.length);
      expect(accounting.dropped.worker_crashed).toBe(held + SPANS_PER_BEACON);
      expect(accounting.recovered).toBe(recovered);
      expect(accounting.exported).toBe(sent - held + recovered + delivered.length);
      expect(relay.child.exitCode).toBe(null);
      expect((await fetch(`http://127.0.0.1:${relay.adminPort}/readyz`)).status).toBe(200);
      expect(relay.logLines().filter((line) => line.spans_lost === held + SPANS_PER_BEACON)).toHaveLength(1);
    },
  );

  it('waits longer before each further restart of a shard that keeps dying (the restart brake)', async () => {
    const { sink, relay } = await start(WITH_FAULTS);
    const first = beaconNamed(400, CRASH);
    const shard = shardOf(first.traceId, 2);
    let n = 401;
    const crashAgain = (): string => {
      for (; ; n++) {
        const beacon = beaconNamed(n, CRASH);
        if (shardOf(beacon.traceId, 2) === shard) return beacon.text;
      }
    };
    expect((await relay.post('/v1/beacons', first.text)).status).toBe(202);
    await waitFor(
      async () => (await relay.metric('edge_relay_worker_restarts_total')) === 1,
      'a first restart',
    );
    // The replacement may not have started yet: a 429 for its hand-off is posted again, as a client would.
    const second = crashAgain();
    await waitFor(
      async () => (await relay.post('/v1/beacons', second)).status === 202,
      'the second crash taken',
    );
    await waitFor(
      async () => (await relay.metric('edge_relay_worker_restarts_total')) === 2,
      'a second restart',
    );
    const restarts = relay.logLines().filter((line) => line.shard === shard && 'restart_in_ms' in line);
    expect(restarts.map((line) => line.restart_in_ms)).toEqual([0, 1000]);
    // The delayed replacement does start, and takes its shard's beacons.
    const later = Array.from({ length: 8 }, (_, k) => uniqueBeacon(500 + k, 7)).filter(
      ({ text }) => shardOf(traceIdOf(text), 2) === shard,
    );
    expect(later.length).toBeGreaterThan(0);
    for (const { text } of later)
      await waitFor(async () => (await relay.post('/v1/beacons', text)).status === 202, 'a beacon taken');
    const delivered = later.flatMap((b) => b.spanIds);
    await waitFor(
      () => delivered.every((id) => sink.spans().some((s) => s.spanId === id)),
      'the later spans',
    );
    expect(relay.child.exitCode).toBe(null);
  });
});
