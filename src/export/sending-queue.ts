import type { SendingQueueConfig } from './config.ts';

export interface QueueItem {
  readonly spans: number;
}

/**
 * A bounded FIFO of export batches served by `num_consumers` concurrent senders (the Collector's
 * sending queue). `offer` never waits: a full queue refuses the batch and the caller counts the drop.
 * With `enabled: false` there is no waiting room: a batch is taken only when a sender is free.
 */
export class SendingQueue<T extends QueueItem> {
  readonly #items: T[] = [];
  readonly #capacity: number;
  readonly #consumers: number;
  readonly #send: (item: T) => Promise<void>;
  readonly #onChange: (batches: number, spans: number) => void;
  #active = 0;
  #spans = 0;
  #idle: (() => void)[] = [];

  constructor(
    config: SendingQueueConfig,
    send: (item: T) => Promise<void>,
    onChange: (batches: number, spans: number) => void,
  ) {
    this.#capacity = config.enabled ? config.queue_size : 0;
    this.#consumers = config.num_consumers;
    this.#send = send;
    this.#onChange = onChange;
  }

  /** Batches waiting plus batches being sent. */
  get size(): number {
    return this.#items.length + this.#active;
  }

  /** Spans in batches being sent right now. */
  get spansInFlight(): number {
    return this.#spans - this.#items.reduce((sum, item) => sum + item.spans, 0);
  }

  offer(item: T): boolean {
    if (this.#active >= this.#consumers && this.#items.length >= this.#capacity) return false;
    this.#items.push(item);
    this.#spans += item.spans;
    this.#pump();
    this.#report();
    return true;
  }

  /** Resolves once the queue is empty and no send is in flight. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Removes the batches not yet being sent (for counting at a shutdown deadline). */
  takeWaiting(): T[] {
    const waiting = this.#items.splice(0);
    for (const item of waiting) this.#spans -= item.spans;
    this.#report();
    return waiting;
  }

  #pump(): void {
    while (this.#active < this.#consumers && this.#items.length > 0) {
      const item = this.#items.shift() as T;
      this.#active++;
      this.#send(item).finally(() => {
        this.#active--;
        this.#spans -= item.spans;
        this.#report();
        this.#pump();
        if (this.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
      });
    }
  }

  #report(): void {
    this.#onChange(this.size, this.#spans);
  }
}
