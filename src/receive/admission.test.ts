import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { sharedMetrics } from '../../test/support/shared-memory.ts';
import { createLogger } from '../telemetry/logger.ts';
import type { SharedMetricsWriter } from '../telemetry/shared-metrics.ts';
import { Admission, retryAfterSeconds } from './admission.ts';

function setup() {
  const { reader, writers: shards } = sharedMetrics(2);
  let used = 100;
  let rss = 100;
  let handoffBytes = 0;
  const admission = new Admission({
    limits: { hard: 1000, soft: 800, rss: 5000 },
    shared: reader,
    handoffPending: () => handoffBytes,
    memory: () => ({ used, rss }),
    registry: new Registry(),
    log: createLogger('error'),
  });
  return {
    admission,
    shards,
    setUsed: (value: number) => (used = value),
    setRss: (value: number) => (rss = value),
    setHandoff: (bytes: number) => (handoffBytes = bytes),
  };
}

let now = 0;
/** Whether one more check sheds. */
const projected = (admission: Admission): boolean => {
  now += 1000;
  admission.check(now);
  return admission.shedding;
};

/** A shard's disk queue as its exporter publishes it: `spans` stored in `bytes`, `free` bytes left. */
function onDisk(
  shard: SharedMetricsWriter,
  { fill, spans, bytes, free }: { fill: number; spans: number; bytes: number; free: number },
): void {
  shard.set('queueFill', fill);
  shard.set('queueSpans', spans);
  shard.set('queueStoredSpans', spans);
  shard.set('queueStoredBytes', bytes);
  shard.set('storageFreeBytes', free);
}

describe('Admission', () => {
  it('sheds while memory in use is over the soft limit, whatever RSS says below its guard', () => {
    const { admission, setUsed, setRss } = setup();
    admission.check(1000);
    expect(admission.shedding).toBe(false);
    setUsed(900);
    admission.check(2000);
    expect([admission.shedding, admission.why]).toEqual([true, 'memory']);
    // The burst is freed: RSS keeps its pages, memory in use falls.
    setRss(3000);
    setUsed(700);
    admission.check(3000);
    expect(admission.shedding).toBe(false);
  });

  it('sheds while RSS is over its guard, as a last resort', () => {
    const { admission, setRss } = setup();
    setRss(5100);
    admission.check(1000);
    expect([admission.shedding, admission.why]).toEqual([true, 'memory']);
    setRss(4900);
    admission.check(2000);
    expect(admission.shedding).toBe(false);
  });

  it('sheds when any shard queue reaches 90% and resumes only below 80%', () => {
    const { admission, shards } = setup();
    shards[1]?.set('queueFill', 0.9);
    admission.check(1000);
    expect(admission.why).toBe('queue');
    shards[1]?.set('queueFill', 0.85);
    admission.check(2000);
    expect(admission.why).toBe('queue');
    shards[1]?.set('queueFill', 0.5);
    admission.check(3000);
    expect(admission.shedding).toBe(false);
  });

  it("sheds while any shard's storage cannot be written, and resumes once it can", () => {
    const { admission, shards } = setup();
    shards[0]?.set('storageFailing', 1);
    admission.check(1000);
    expect([admission.shedding, admission.why, admission.storageFailing]).toEqual([true, 'storage', true]);
    shards[0]?.set('storageFailing', 0);
    admission.check(2000);
    expect([admission.shedding, admission.storageFailing]).toEqual([false, false]);
  });

  it('counts what is in the hand-off, batched or compressed on its way to a disk queue as filling it', () => {
    const { admission, shards, setHandoff } = setup();
    const [fresh, busy] = shards as [SharedMetricsWriter, SharedMetricsWriter];
    // A shard that has taken nothing up yet: its pending hand-off bytes count byte for byte.
    fresh.set('storageFreeBytes', 200_000);
    setHandoff(190_000);
    expect([projected(admission), admission.why]).toEqual([true, 'queue']);
    setHandoff(0);
    fresh.set('storageFreeBytes', 1e9);
    expect(projected(admission)).toBe(false);
    // 1,000 spans take 100 KB on disk and 200 KB are free: room for 2,000 more spans. The hand-off
    // has carried 500 bytes per span so far, so 1 MB pending is 2,000 spans.
    onDisk(busy, { fill: 0.33, spans: 1000, bytes: 100_000, free: 200_000 });
    busy.add('handoffBytesDone', 500_000);
    busy.add('spansIngested', 1000);
    setHandoff(1_000_000);
    expect(projected(admission)).toBe(true);
    setHandoff(0);
    busy.set('queueSpans', 1500); // 500 spans being compressed
    busy.set('batchSpans', 500);
    expect(projected(admission)).toBe(false);
    busy.set('batchSpans', 1500);
    expect(projected(admission)).toBe(true);
  });

  it('keeps room on a disk queue for what arrives before the next check', () => {
    const { admission, shards } = setup();
    const shard = shards[0] as SharedMetricsWriter;
    // 1,000 spans take 100 KB on disk, 150 KB are free, and the shard took up 1,000 spans so far.
    onDisk(shard, { fill: 0.4, spans: 1000, bytes: 100_000, free: 150_000 });
    shard.add('handoffBytesDone', 500_000);
    shard.add('spansIngested', 1000);
    expect(projected(admission)).toBe(false);
    // Then 1,000 in one interval, and 100 KB left: as many again before the next check would fill it,
    // though what is on disk now is two thirds of the room.
    shard.add('spansIngested', 1000);
    onDisk(shard, { fill: 0.4, spans: 2000, bytes: 200_000, free: 100_000 });
    expect(projected(admission)).toBe(true);
    // Nothing new in the next interval: what is on disk leaves room enough.
    expect(projected(admission)).toBe(false);
  });

  it('asks for the time the measured drain rate needs to clear the excess', () => {
    const { admission, shards } = setup();
    const shard = shards[0] as SharedMetricsWriter;
    admission.check(1000);
    shard.add('spansExported', 1000); // 1,000 spans/s
    shard.set('queueSpans', 10_000);
    shard.set('queueFill', 1);
    admission.check(2000);
    // 20% of 10,000 held spans over the resume level, at 1,000 spans/s.
    expect(admission.retryAfter).toBe(2);
  });

  it('bounds Retry-After, and asks for the maximum when nothing drains', () => {
    expect(retryAfterSeconds(10, 1000)).toBe(1);
    expect(retryAfterSeconds(1e9, 1000)).toBe(30);
    expect(retryAfterSeconds(10, 0)).toBe(30);
  });
});
