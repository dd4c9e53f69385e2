import { describe, expect, it } from 'vitest';
import type { SpanRecord } from '../../model/span.ts';
import {
  allocateSettledSegments,
  bySegment,
  SEGMENT_SLOTS,
  SettledSegmentsReader,
  SettledSegmentsWriter,
} from '../../telemetry/settled-segments.ts';
import { SegmentTable } from './segment-table.ts';

const record = (segment: number | undefined) => ({ segment }) as SpanRecord;

function table(nextId = 0) {
  const buffer = allocateSettledSegments(2);
  const workers = [new SettledSegmentsWriter(buffer, 0), new SettledSegmentsWriter(buffer, 1)];
  return { table: new SegmentTable(new SettledSegmentsReader(buffer), nextId), workers };
}

describe('settled segments', () => {
  it('count each record against its segment, summed over workers', () => {
    const buffer = allocateSettledSegments(2);
    new SettledSegmentsWriter(buffer, 0).settle([
      record(3),
      record(3),
      record(4),
      record(undefined),
      record(3),
    ]);
    new SettledSegmentsWriter(buffer, 1).add(3 + SEGMENT_SLOTS, 10);
    const reader = new SettledSegmentsReader(buffer);
    expect(reader.read(3)).toBe(13);
    expect(reader.read(4)).toBe(1);
  });

  it('group records by segment, in order, without copying when they share one', () => {
    const same = [record(1), record(1)];
    expect(bySegment(same)[0]).toBe(same);
    expect(bySegment([record(1), record(2), record(1)]).map((g) => g.map((r) => r.segment))).toEqual([
      [1, 1],
      [2],
    ]);
  });
});

describe('SegmentTable', () => {
  it('deletes a segment once closed, unpinned and settled as far as it was handed off', () => {
    const { table: segments, workers } = table();
    const entry = segments.open(0);
    if (!entry) throw new Error('no slot');
    entry.expected = 10;
    entry.bytes = 500;
    workers[0]?.add(0, 10);
    expect(segments.takeSettled()).toEqual([]);
    entry.closed = true;
    entry.pins = 1;
    expect(segments.takeSettled()).toEqual([]);
    entry.pins = 0;
    expect(segments.takeSettled()).toEqual([entry]);
    expect(segments.size).toBe(0);
  });

  it('starts a reused slot at its current count, and never opens a segment in a taken slot', () => {
    const { table: segments, workers } = table();
    const first = segments.open(0);
    workers[1]?.add(0, 5);
    if (!first) throw new Error('no slot');
    first.expected = 5;
    first.closed = true;
    expect(segments.takeSettled()).toHaveLength(1);
    const recovered = segments.recovered(SEGMENT_SLOTS + 1, 100, 0);
    // Slot 1 is taken by the recovered segment: the next new one skips it.
    const next = segments.open(0);
    expect(next?.ids).toEqual([2]);
    // A segment that comes back to slot 0 starts from the 5 spans its predecessor settled.
    for (let id = 3; id < SEGMENT_SLOTS; id++) segments.open(0);
    const wrapped = segments.open(0);
    expect(wrapped?.ids).toEqual([SEGMENT_SLOTS]);
    if (!wrapped) throw new Error('no slot');
    wrapped.expected = 1;
    wrapped.closed = true;
    expect(segments.takeSettled()).toEqual([]);
    workers[0]?.add(SEGMENT_SLOTS, 1);
    expect(segments.takeSettled()).toEqual([wrapped]);
    // The only free slot is 0 again: ids go on from there, skipping every taken slot.
    expect(segments.open(0)?.ids).toEqual([2 * SEGMENT_SLOTS]);
    // Every slot taken: no new segment until one is deleted.
    expect(segments.open(0)).toBeUndefined();
    expect(recovered.pins).toBe(1);
  });

  it('puts recovered segments that share a slot in one entry, deleted together', () => {
    const { table: segments, workers } = table(SEGMENT_SLOTS * 2);
    const a = segments.recovered(7, 10, 0);
    const b = segments.recovered(7 + SEGMENT_SLOTS, 20, 0);
    expect(b).toBe(a);
    expect(a).toMatchObject({ ids: [7, 7 + SEGMENT_SLOTS], bytes: 30, pins: 2, closed: true });
    a.expected = 4;
    a.pins = 0;
    workers[0]?.add(7, 3);
    expect(segments.unsettled()).toBe(1);
    workers[1]?.add(7 + SEGMENT_SLOTS, 1);
    expect(segments.takeSettled()).toEqual([a]);
  });
});
