import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { GZIP_PROTO, PLAIN_PROTO } from '../../test/support/formats.ts';
import { tearOneRecord } from '../../test/support/storage-dir.ts';
import { resolveConfig } from '../service/load-config.ts';
import {
  allocateSharedMetrics,
  SharedMetricsReader,
  SharedMetricsWriter,
} from '../telemetry/shared-metrics.ts';
import { diskBatchStore, memoryBatchStore } from './batch-store.ts';
import { HeldSpans } from './held-spans.ts';
import { recoverQueue } from './recover-queue.ts';

const log = pino({ level: 'silent' });

function ledger() {
  const buffer = allocateSharedMetrics(1);
  return {
    held: new HeldSpans(new SharedMetricsWriter(buffer, 0), log),
    metrics: new SharedMetricsReader(buffer),
  };
}

describe('recoverQueue', () => {
  it('holds what a previous run left on disk, returns it to send again, and drops torn records', () => {
    const storage = mkdtempSync(join(tmpdir(), 'recover-queue-'));
    const config = resolveConfig({ exporter: { sending_queue: { storage } } }).exporter.sending_queue;
    const previous = diskBatchStore(config, 0, 1);
    previous.put(new Uint8Array(100), 3, GZIP_PROTO);
    previous.put(new Uint8Array(100), 4, PLAIN_PROTO);
    previous.put(new Uint8Array(100), 5, GZIP_PROTO);
    const torn = tearOneRecord(storage);

    const { held, metrics } = ledger();
    const batches = recoverQueue(diskBatchStore(config, 0, 1), held, log);
    expect(batches.map((batch) => [batch.spans, batch.format])).toEqual([
      [3, GZIP_PROTO],
      [4, PLAIN_PROTO],
    ]);
    expect(metrics.read('spansRecovered')).toBe(12);
    expect(metrics.read('spansDropped', 'storage_corrupt')).toBe(torn.spans);
    expect(metrics.read('storageCorruptRecords')).toBe(1);
    expect(held.count).toBe(7);
  });

  it('has nothing to recover from memory', () => {
    const { held, metrics } = ledger();
    const store = memoryBatchStore(resolveConfig({}).exporter.sending_queue);
    expect(recoverQueue(store, held, log)).toEqual([]);
    expect(metrics.read('spansRecovered')).toBe(0);
    expect(held.count).toBe(0);
  });
});
