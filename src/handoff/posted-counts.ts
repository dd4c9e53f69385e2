import { WorkerRegions } from '../telemetry/worker-regions.ts';

// What each receiver has posted to each shard, in bytes and spans, in one SharedArrayBuffer: a receiver
// region of two slots per shard. The receiver is the only writer of its region (plain stores suffice).
// The supervisor reads it for admission (bytes in the hand-off, summed over receivers) and, after a
// receiver thread has ended, for what it had handed to a shard whose thread then died: the supervisor
// cannot ask a thread that is gone, and the region is final once its writer is.

const BYTES = 0;
const SPANS = 1;
const PER_SHARD = 2;

export const allocatePostedCounts = (receivers: number, shards: number): SharedArrayBuffer =>
  WorkerRegions.allocate(receivers, shards * PER_SHARD);

/** Everything a receiver has sent one shard: what the shard has not taken up is lost if it dies. */
export interface Posted {
  bytes: number;
  spans: number;
}

/** One receiver's side: counts what it posts to each shard. */
export class PostedCounts {
  readonly #slots: Float64Array;

  constructor(buffer: SharedArrayBuffer, shards: number, receiver: number) {
    this.#slots = new WorkerRegions(buffer, shards * PER_SHARD).region(receiver);
  }

  add(shard: number, bytes: number, spans: number): void {
    const base = shard * PER_SHARD;
    this.#slots[base + BYTES] = (this.#slots[base + BYTES] as number) + bytes;
    this.#slots[base + SPANS] = (this.#slots[base + SPANS] as number) + spans;
  }

  bytes(shard: number): number {
    return this.#slots[shard * PER_SHARD + BYTES] as number;
  }

  of(shard: number): Posted {
    const base = shard * PER_SHARD;
    return { bytes: this.#slots[base + BYTES] as number, spans: this.#slots[base + SPANS] as number };
  }
}

/** The supervisor's side: every receiver's posts. */
export class PostedReader {
  readonly #regions: WorkerRegions;

  constructor(buffer: SharedArrayBuffer, shards: number) {
    this.#regions = new WorkerRegions(buffer, shards * PER_SHARD);
  }

  /** Bytes every receiver has posted to a shard. */
  bytes(shard: number): number {
    return this.#regions.sum(shard * PER_SHARD + BYTES);
  }

  of(receiver: number, shard: number): Posted {
    const base = shard * PER_SHARD;
    return {
      bytes: this.#regions.at(receiver, base + BYTES),
      spans: this.#regions.at(receiver, base + SPANS),
    };
  }
}
