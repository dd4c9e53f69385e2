import type { Logger } from '../telemetry/logger.ts';
import type { DropReason, SharedMetricsWriter } from '../telemetry/shared-metrics.ts';

/**
 * The exporter's share of the accounting identity. Every span handed over (or read back from disk)
 * is held, shown as the `queueSpans` gauge, until it is exported or dropped with a reason; with
 * storage, what is still held at shutdown stays on disk for the next start.
 */
export class HeldSpans {
  readonly #metrics: SharedMetricsWriter;
  readonly #log: Logger;
  #count = 0;

  constructor(metrics: SharedMetricsWriter, log: Logger) {
    this.#metrics = metrics;
    this.#log = log;
  }

  get count(): number {
    return this.#count;
  }

  /** Spans handed over by the pipeline. */
  hold(spans: number): void {
    this.#change(spans);
  }

  /** Spans a previous run left in the persistent queue. */
  recover(spans: number): void {
    this.#metrics.add('spansRecovered', spans);
    this.#change(spans);
  }

  exported(spans: number): void {
    this.#metrics.add('spansExported', spans);
    this.#change(-spans);
  }

  drop(spans: number, reason: DropReason, detail: string): void {
    this.#metrics.add('spansDropped', spans, reason);
    this.#change(-spans);
    this.#log.warn({ spans, reason, detail }, 'spans dropped');
  }

  /** A persistent-queue record that cannot be read back: its spans are lost. */
  corrupt(spans: number, detail: string): void {
    this.#metrics.add('storageCorruptRecords', 1);
    this.drop(spans, 'storage_corrupt', detail);
  }

  #change(spans: number): void {
    this.#count += spans;
    this.#metrics.set('queueSpans', this.#count);
  }
}
