import { SEGMENT_SLOTS, type SettledSegmentsReader, segmentSlot } from '../../telemetry/settled-segments.ts';

/**
 * The segments of the log that are still on disk, one entry per settled-counter slot. An entry is
 * deleted once it is closed (no more commits go to it), nothing pins it (a commit in flight, a replay
 * under way) and the workers have settled as many of its spans as were handed off from it. Segments
 * recovered at start share an entry if their ids fall in one slot; new segments only take free slots.
 */
export interface SegmentEntry {
  readonly ids: number[];
  readonly slot: number;
  /** The slot's settled count when the entry was made: counts are cumulative, never reset. */
  readonly base: number;
  /** Spans handed off (or being committed) from it. */
  expected: number;
  bytes: number;
  pins: number;
  closed: boolean;
  readonly openedAt: number;
}

export class SegmentTable {
  readonly #entries = new Map<number, SegmentEntry>();
  readonly #settled: SettledSegmentsReader;
  #nextId: number;

  constructor(settled: SettledSegmentsReader, nextId: number) {
    this.#settled = settled;
    this.#nextId = nextId;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** A new segment in the first free slot after the last id, or undefined when every slot is taken. */
  open(now: number): SegmentEntry | undefined {
    for (let id = this.#nextId; id < this.#nextId + SEGMENT_SLOTS; id++) {
      if (this.#entries.has(segmentSlot(id))) continue;
      this.#nextId = id + 1;
      return this.#add(id, now, false);
    }
    return undefined;
  }

  /** A segment left by an earlier run: closed from the start, pinned until its replay is done. */
  recovered(id: number, bytes: number, now: number): SegmentEntry {
    const shared = this.#entries.get(segmentSlot(id));
    const entry = shared ?? this.#add(id, now, true);
    if (shared) shared.ids.push(id);
    entry.bytes += bytes;
    entry.pins++;
    return entry;
  }

  /** Entries whose every span is settled, removed from the table: the caller deletes their files. */
  takeSettled(): SegmentEntry[] {
    const settled: SegmentEntry[] = [];
    for (const entry of this.#entries.values()) {
      if (!entry.closed || entry.pins > 0) continue;
      if (this.#settled.read(entry.slot) - entry.base < entry.expected) continue;
      this.#entries.delete(entry.slot);
      settled.push(entry);
    }
    return settled;
  }

  /** Spans handed off from the log that are not yet settled. */
  unsettled(): number {
    let spans = 0;
    for (const entry of this.#entries.values()) {
      spans += Math.max(0, entry.expected - (this.#settled.read(entry.slot) - entry.base));
    }
    return spans;
  }

  #add(id: number, now: number, closed: boolean): SegmentEntry {
    const slot = segmentSlot(id);
    const entry: SegmentEntry = {
      ids: [id],
      slot,
      base: this.#settled.read(slot),
      expected: 0,
      bytes: 0,
      pins: 0,
      closed,
      openedAt: now,
    };
    this.#entries.set(slot, entry);
    return entry;
  }
}
