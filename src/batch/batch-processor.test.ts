import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Exporter } from '../export/exporter.ts';
import type { SpanRecord } from '../model/span.ts';
import { BatchProcessor } from './batch-processor.ts';

const records = (n: number): SpanRecord[] =>
  Array.from({ length: n }, (_, i) => ({ size: i }) as unknown as SpanRecord);

function recordingExporter() {
  const batches: number[] = [];
  const exporter: Exporter = {
    export: (batch) => {
      batches.push(batch.length);
    },
    drain: vi.fn(async () => {}),
  };
  return { batches, exporter };
}

describe('BatchProcessor', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends once send_batch_size spans wait', () => {
    const { batches, exporter } = recordingExporter();
    const batcher = new BatchProcessor(
      { send_batch_size: 5, send_batch_max_size: 0, timeout: 1000 },
      exporter,
    );
    batcher.consume(records(3));
    expect(batches).toEqual([]);
    batcher.consume(records(3));
    expect(batches).toEqual([6]);
  });

  it('sends a partial batch after the timeout', () => {
    const { batches, exporter } = recordingExporter();
    const batcher = new BatchProcessor(
      { send_batch_size: 100, send_batch_max_size: 0, timeout: 200 },
      exporter,
    );
    batcher.consume(records(2));
    vi.advanceTimersByTime(199);
    expect(batches).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(batches).toEqual([2]);
  });

  it('splits at send_batch_max_size', () => {
    const { batches, exporter } = recordingExporter();
    const batcher = new BatchProcessor(
      { send_batch_size: 10, send_batch_max_size: 4, timeout: 200 },
      exporter,
    );
    batcher.consume(records(10));
    expect(batches).toEqual([4, 4, 2]);
  });

  it('flushes everything and drains the exporter on drain', async () => {
    const { batches, exporter } = recordingExporter();
    const sizes: number[] = [];
    const sent: [number, string][] = [];
    const batcher = new BatchProcessor(
      { send_batch_size: 100, send_batch_max_size: 0, timeout: 200 },
      exporter,
      { waiting: (n) => sizes.push(n), sent: (n, trigger) => sent.push([n, trigger]) },
    );
    batcher.consume(records(7));
    await batcher.drain(Date.now() + 1000);
    expect(batches).toEqual([7]);
    expect(exporter.drain).toHaveBeenCalledOnce();
    expect(sizes).toEqual([7, 0]);
    expect(sent).toEqual([[7, 'drain']]);
  });

  it('reports what triggered each batch it sends', () => {
    const { exporter } = recordingExporter();
    const sent: [number, string][] = [];
    const batcher = new BatchProcessor(
      { send_batch_size: 5, send_batch_max_size: 4, timeout: 200 },
      exporter,
      {
        waiting() {},
        sent: (n, trigger) => sent.push([n, trigger]),
      },
    );
    batcher.consume(records(6));
    batcher.consume(records(1));
    vi.advanceTimersByTime(200);
    expect(sent).toEqual([
      [4, 'size'],
      [2, 'size'],
      [1, 'timeout'],
    ]);
  });
});
