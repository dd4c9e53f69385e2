import type { Exporter } from '../export/exporter.ts';
import type { SpanRecord } from '../model/span.ts';
import type { SpanProcessor } from '../model/span-processor.ts';
import type { BatchConfig } from './config.ts';

/**
 * The Collector's batch processor: sends when `send_batch_size` spans are waiting or `timeout` after
 * the first one arrived, never more than `send_batch_max_size` spans in one batch.
 */
export class BatchProcessor implements SpanProcessor {
  readonly #config: BatchConfig;
  readonly #exporter: Exporter;
  readonly #onSize: (spans: number) => void;
  #pending: SpanRecord[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(config: BatchConfig, exporter: Exporter, onSize: (spans: number) => void = () => {}) {
    this.#config = config;
    this.#exporter = exporter;
    this.#onSize = onSize;
  }

  consume(records: readonly SpanRecord[]): void {
    for (const record of records) this.#pending.push(record);
    if (this.#pending.length >= this.#config.send_batch_size) this.#flush();
    else if (this.#pending.length > 0 && !this.#timer) {
      this.#timer = setTimeout(() => this.#flush(), this.#config.timeout);
    }
    this.#onSize(this.#pending.length);
  }

  async drain(deadline: number): Promise<void> {
    this.#flush();
    await this.#exporter.drain(deadline);
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const max = this.#config.send_batch_max_size || Number.POSITIVE_INFINITY;
    const pending = this.#pending;
    this.#pending = [];
    for (let start = 0; start < pending.length; start += max) {
      this.#exporter.export(
        start === 0 && pending.length <= max ? pending : pending.slice(start, start + max),
      );
    }
    this.#onSize(0);
  }
}
