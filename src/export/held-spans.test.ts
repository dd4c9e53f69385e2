import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  allocateSharedMetrics,
  SharedMetricsReader,
  SharedMetricsWriter,
} from '../telemetry/shared-metrics.ts';
import { HeldSpans } from './held-spans.ts';

function ledger() {
  const buffer = allocateSharedMetrics(1);
  const held = new HeldSpans(new SharedMetricsWriter(buffer, 0), pino({ level: 'silent' }));
  return { held, metrics: new SharedMetricsReader(buffer) };
}

describe('HeldSpans', () => {
  it('holds spans handed over or recovered until each is exported or dropped, shown as queueSpans', () => {
    const { held, metrics } = ledger();
    held.hold(10);
    held.recover(4);
    expect(held.count).toBe(14);
    expect(metrics.read('queueSpans')).toBe(14);
    held.exported(6);
    held.drop(3, 'queue_full', 'sending queue is full');
    expect(held.count).toBe(5);
    expect(metrics.read('queueSpans')).toBe(5);
    expect(metrics.read('spansRecovered')).toBe(4);
    expect(metrics.read('spansExported')).toBe(6);
    expect(metrics.read('spansDropped', 'queue_full')).toBe(3);
  });

  it('counts an unreadable record once, and its spans as storage_corrupt', () => {
    const { held, metrics } = ledger();
    held.recover(5);
    held.corrupt(5, 'shard-0/000001: torn');
    expect(held.count).toBe(0);
    expect(metrics.read('storageCorruptRecords')).toBe(1);
    expect(metrics.read('spansDropped', 'storage_corrupt')).toBe(5);
  });
});
