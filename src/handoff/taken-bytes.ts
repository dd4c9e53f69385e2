import { WorkerRegions } from '../telemetry/worker-regions.ts';

// Bytes of hand-off each shard has taken up from each receiver, in one SharedArrayBuffer: a shard region
// of one slot per receiver. Each receiver bounds what it has posted to a shard and the shard has not yet
// taken up, so it needs the count of its own (receiver, shard) pair: a sum over receivers would let one
// receiver's backlog be hidden by another's progress. The shard is the only writer of its region, so
// plain stores suffice; a receiver that reads a count late only sheds a little early.

export const allocateTakenBytes = (shards: number, receivers: number): SharedArrayBuffer =>
  WorkerRegions.allocate(shards, receivers);

/** A shard's side: counts what it has taken up from each receiver. */
export class TakenBytesWriter {
  readonly #slots: Float64Array;

  constructor(buffer: SharedArrayBuffer, receivers: number, shard: number) {
    this.#slots = new WorkerRegions(buffer, receivers).region(shard);
  }

  add(receiver: number, bytes: number): void {
    this.#slots[receiver] = (this.#slots[receiver] as number) + bytes;
  }

  /** After the shard's thread died, before its replacement starts: all that was posted to it is done. */
  set(receiver: number, bytes: number): void {
    this.#slots[receiver] = bytes;
  }
}

/** A receiver's side: what each shard has taken up from this receiver. */
export function takenFrom(buffer: SharedArrayBuffer, receivers: number, receiver: number) {
  const regions = new WorkerRegions(buffer, receivers);
  return (shard: number): number => regions.at(shard, receiver);
}
