/**
 * Float64 counters in one SharedArrayBuffer, `slots` per worker: each worker writes only its own
 * region (plain stores suffice with a single writer), and the main thread reads a slot summed over
 * every worker's region, without a message.
 */
export class WorkerRegions {
  readonly workers: number;
  readonly #all: Float64Array;
  readonly #slots: number;

  constructor(buffer: SharedArrayBuffer, slots: number) {
    this.#all = new Float64Array(buffer);
    this.#slots = slots;
    this.workers = this.#all.length / slots;
  }

  static allocate(workers: number, slots: number): SharedArrayBuffer {
    return new SharedArrayBuffer(workers * slots * Float64Array.BYTES_PER_ELEMENT);
  }

  /** The writable view of one worker's region. */
  region(worker: number): Float64Array {
    return this.#all.subarray(worker * this.#slots, (worker + 1) * this.#slots);
  }

  at(worker: number, slot: number): number {
    return this.#all[worker * this.#slots + slot] as number;
  }

  sum(slot: number): number {
    let sum = 0;
    for (let w = 0; w < this.workers; w++) sum += this.#all[w * this.#slots + slot] as number;
    return sum;
  }
}
