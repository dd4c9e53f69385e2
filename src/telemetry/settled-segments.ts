import type { SpanRecord } from '../model/span.ts';
import { WorkerRegions } from './worker-regions.ts';

// How many spans of each write-ahead-log segment the workers have settled (exported, sampled out,
// dropped with a reason, written to the persistent queue, or delivered to the replica that owns them),
// in one SharedArrayBuffer: the main thread deletes a segment once every span it logged is settled,
// without asking the workers. Segment n counts in slot n % SEGMENT_SLOTS; the log never has two live
// segments in one slot, and keeps each slot's count at the start of a segment as its baseline, so a
// slot's counts are cumulative and never reset. Each worker writes only its own region
// (worker-regions.ts); a reader that sees a count late only deletes a segment later.

/** Live segments the log can track at once; past it, the log stops rotating until a slot frees up. */
export const SEGMENT_SLOTS = 4096;

export const segmentSlot = (segment: number): number => segment % SEGMENT_SLOTS;

export const allocateSettledSegments = (workers: number): SharedArrayBuffer =>
  WorkerRegions.allocate(workers, SEGMENT_SLOTS);

/** One worker's region: counts spans it settles against their segments. */
export class SettledSegmentsWriter {
  readonly #slots: Float64Array;

  constructor(buffer: SharedArrayBuffer, worker: number) {
    this.#slots = new WorkerRegions(buffer, SEGMENT_SLOTS).region(worker);
  }

  /** Counts `spans` settled spans of one segment. */
  add(segment: number, spans: number): void {
    const slot = segmentSlot(segment);
    this.#slots[slot] = (this.#slots[slot] as number) + spans;
  }

  /** Counts each record against its own segment (records without one were never logged). */
  settle(records: readonly SpanRecord[]): void {
    let segment: number | undefined;
    let run = 0;
    // Records arrive in runs of one segment: one store per run, not per span.
    for (const record of records) {
      if (record.segment === segment) {
        run++;
        continue;
      }
      if (segment !== undefined) this.add(segment, run);
      segment = record.segment;
      run = 1;
    }
    if (segment !== undefined) this.add(segment, run);
  }
}

/** The main thread's view: settled spans of a slot, summed over every worker. */
export class SettledSegmentsReader {
  readonly #regions: WorkerRegions;

  constructor(buffer: SharedArrayBuffer) {
    this.#regions = new WorkerRegions(buffer, SEGMENT_SLOTS);
  }

  read(slot: number): number {
    return this.#regions.sum(slot);
  }
}

/** Groups records by segment, keeping order within each; one group when all share a segment. */
export function bySegment(records: readonly SpanRecord[]): readonly (readonly SpanRecord[])[] {
  const first = records[0]?.segment;
  if (records.every((record) => record.segment === first)) return [records];
  return [...Map.groupBy(records, (record) => record.segment).values()];
}
