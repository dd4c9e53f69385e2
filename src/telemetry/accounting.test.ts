import { describe, expect, it } from 'vitest';
import { tally, writeOffWorker } from './accounting.ts';
import { allocateSharedMetrics, SharedMetricsReader, SharedMetricsWriter } from './shared-metrics.ts';

describe('writeOffWorker', () => {
  it('counts what a dead worker held or never took up as dropped, leaving the identity whole and its gauges at 0', () => {
    const buffer = allocateSharedMetrics(2);
    const reader = new SharedMetricsReader(buffer);
    const [dead, alive] = [0, 1].map((w) => new SharedMetricsWriter(buffer, w)) as [
      SharedMetricsWriter,
      SharedMetricsWriter,
    ];
    // 100 spans handed to worker 0 (1,000 bytes), 90 taken up: 40 exported, 50 held; worker 1 took 10.
    dead.add('handoffBytesDone', 900);
    dead.add('spansIngested', 90);
    dead.add('spansExported', 40);
    dead.set('bufferedSpans', 20);
    dead.set('bufferedTraces', 3);
    dead.set('batchSpans', 10);
    dead.set('queueSpans', 15);
    dead.set('forwardPendingSpans', 5);
    dead.set('queueFill', 0.5);
    alive.add('spansIngested', 10);
    alive.set('bufferedSpans', 10);
    expect(tally(reader, 110).unaccounted).toBe(0);

    expect(writeOffWorker(reader, dead, 0, { bytes: 1000, spans: 100 })).toBe(60);

    const after = tally(reader, 110);
    expect(after).toMatchObject({ unaccounted: 0, in_handoff: 0, in_flight: 10, exported: 40 });
    expect(after.dropped.worker_crashed).toBe(60);
    expect(reader.read('handoffBytesDone', undefined, 0)).toBe(1000);
    expect(reader.read('bufferedTraces', undefined, 0)).toBe(0);
    expect(reader.read('queueFill', undefined, 0)).toBe(0);
    expect(reader.read('bufferedSpans', undefined, 1)).toBe(10);
  });
});
