/**
 * A FIFO of export batches served by `consumers` concurrent senders (the Collector's sending queue).
 * It does not bound itself: the batch store behind it (memory or disk) refuses what does not fit.
 */
export class SendingQueue<T> {
  readonly #items: T[] = [];
  readonly #consumers: number;
  readonly #send: (item: T) => Promise<void>;
  readonly #onChange: (batches: number) => void;
  #active = 0;
  #idle: (() => void)[] = [];

  constructor(consumers: number, send: (item: T) => Promise<void>, onChange: (batches: number) => void) {
    this.#consumers = consumers;
    this.#send = send;
    this.#onChange = onChange;
  }

  /** Batches waiting plus batches being sent. */
  get size(): number {
    return this.#items.length + this.#active;
  }

  offer(item: T): void {
    this.#items.push(item);
    this.#pump();
    this.#onChange(this.size);
  }

  /** Resolves once the queue is empty and no send is in flight. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#active < this.#consumers && this.#items.length > 0) {
      const item = this.#items.shift() as T;
      this.#active++;
      this.#send(item).finally(() => {
        this.#active--;
        this.#onChange(this.size);
        this.#pump();
        if (this.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
      });
    }
  }
}
