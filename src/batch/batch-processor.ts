import type { Exporter } from '../export/exporter.ts';
import type { SpanRecord } from '../model/span.ts';
import type { SpanProcessor } from '../model/span-processor.ts';
import type { BatchConfig } from './config.ts';

/** What sent a batch: it reached send_batch_size, its timeout passed, or the shard is draining. */
export type BatchTrigger = 'size' | 'timeout' | 'drain';

/** Where the batch processor reports its state: spans waiting, and each batch it sends. */
export interface BatchObserver {
  waiting(spans: number): void;
  sent(spans: number, trigger: BatchTrigger): void;
}

const UNOBSERVED: BatchObserver = { waiting() {}, sent() {} };

/**
 * The Collector's batch processor: sends when `send_batch_size` spans are waiting or `timeout` after
 * the first one arrived, never more than `send_batch_max_size` spans in one batch.
 */
export class BatchProcessor implements SpanProcessor {
  readonly #config: BatchConfig;
  readonly #exporter: Exporter;
  readonly #observer: BatchObserver;
  #pending: SpanRecord[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(config: BatchConfig, exporter: Exporter, observer: BatchObserver = UNOBSERVED) {
    this.#config = config;
    this.#exporter = exporter;
    this.#observer = observer;
  }

  consume(records: readonly SpanRecord[]): void {
    for (const record of records) this.#pending.push(record);
    if (this.#pending.length >= this.#config.send_batch_size) this.#flush('size');
    else if (this.#pending.length > 0 && !this.#timer) {
      this.#timer = setTimeout(() => this.#flush('timeout'), this.#config.timeout);
    }
    this.#observer.waiting(this.#pending.length);
  }

  async drain(deadline: number): Promise<void> {
    this.#flush('drain');
    await this.#exporter.drain(deadline);
  }

  #flush(trigger: BatchTrigger): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const max = this.#config.send_batch_max_size || Number.POSITIVE_INFINITY;
    const pending = this.#pending;
    this.#pending = [];
    for (let start = 0; start < pending.length; start += max) {
      const batch = start === 0 && pending.length <= max ? pending : pending.slice(start, start + max);
      this.#exporter.export(batch);
      this.#observer.sent(batch.length, trigger);
    }
    this.#observer.waiting(0);
  }
}
