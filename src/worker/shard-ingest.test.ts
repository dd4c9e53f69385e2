import { describe, expect, it } from 'vitest';
import { uniqueBeacon } from '../../test/support/beacons.ts';
import { handoffBatches } from '../../test/support/handoff-batches.ts';
import { samplerHarness, shardIntake } from '../../test/support/tail-sampler-harness.ts';
import type { BeaconBatch } from '../handoff/messages.ts';
import type { Beacon } from '../model/beacon.ts';
import type { SpanRecord } from '../model/span.ts';

/** Spans in each test beacon (docs/beacon.md's example). */
const SPANS = (JSON.parse(uniqueBeacon(0).text) as Beacon).spans.length;

/** A receiver's hand-off message of `count` beacons of their own traces, as a shard gets it. */
function batchOf(count: number): BeaconBatch {
  const [message] = handoffBatches(Array.from({ length: count }, (_, n) => uniqueBeacon(n).text));
  if (!message) throw new Error('no beacons handed off');
  return message;
}

/** A shard's intake in front of a tail sampler (policies, or none), the first stage recorded. */
function intake(tailSampling: Record<string, unknown> | undefined) {
  const harness = samplerHarness(tailSampling);
  const first: SpanRecord[] = [];
  const ingest = shardIntake(harness, {
    consume: (records) => void first.push(...records),
    drain: async () => {},
  });
  return { ...harness, ingest, first };
}

describe('shardIngest', () => {
  it('keeping everything, reads a whole message into spans for the first stage', () => {
    const { ingest, first, metrics } = intake(undefined);
    const batch = batchOf(3);
    ingest.beacons(batch);
    expect(first).toHaveLength(3 * SPANS);
    expect(new Set(first.map((r) => r.span.traceId))).toEqual(new Set(batch.traceIds));
    expect(metrics.read('spansIngested')).toBe(3 * SPANS);
  });

  it('tail sampling, holds the beacons unread and hands them to the sampler, not the first stage', () => {
    const { ingest, first, metrics, advance, exported } = intake({ decision_wait: '1s' });
    ingest.beacons(batchOf(2));
    expect(first).toHaveLength(0);
    expect(metrics.read('bufferedSpans')).toBe(2 * SPANS);
    expect(metrics.read('spansIngested')).toBe(2 * SPANS);
    advance(1000);
    expect(exported.length + metrics.read('spansSampledOut')).toBe(2 * SPANS);
  });

  it('counts a message it cannot parse as taken up and dropped, and goes on', () => {
    const { ingest, first, metrics } = intake(undefined);
    const garbled = batchOf(2);
    ingest.beacons({ ...garbled, text: garbled.text.slice(0, -2) });
    expect(metrics.read('spansIngested')).toBe(2 * SPANS);
    expect(metrics.read('spansDropped', 'decode_failed')).toBe(2 * SPANS);
    ingest.beacons(batchOf(1));
    expect(first).toHaveLength(SPANS);
  });
});
