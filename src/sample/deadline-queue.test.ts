import { describe, expect, it } from 'vitest';
import { DeadlineQueue } from './deadline-queue.ts';
import { TraceBuffer } from './trace-buffer.ts';

/** Pops what is due by `now` as [trace id, deadline] pairs. */
function popAll(queue: DeadlineQueue, now: number): [string, number][] {
  const popped: [string, number][] = [];
  queue.popDue(now, (trace, at) => popped.push([trace.traceId, at]));
  return popped;
}

describe('DeadlineQueue', () => {
  it('pops due traces of several delays, interleaved, in deadline order and nothing that is not due', () => {
    const buffer = new TraceBuffer();
    const queue = new DeadlineQueue();
    const delays = [30, 2, 30, 10, 2];
    const expected: [string, number][] = [];
    for (let now = 0; now < 100; now++) {
      const delay = delays[now % delays.length] as number;
      const id = `t${now}`;
      queue.push(buffer.open(id, now, now + delay), delay);
      expected.push([id, now + delay]);
    }
    expected.sort((a, b) => a[1] - b[1]);
    const due = expected.filter(([, at]) => at <= 60);
    const popped = popAll(queue, 60);
    expect(popped.map(([, at]) => at)).toEqual(due.map(([, at]) => at));
    expect(new Set(popped.map(([id]) => id))).toEqual(new Set(due.map(([id]) => id)));
    expect(queue.peek()).toBe(61);
    expect(popAll(queue, 200)).toHaveLength(100 - due.length);
    expect(queue.peek()).toBeUndefined();
  });

  it('keeps its order across the compaction of a long lane', () => {
    const buffer = new TraceBuffer();
    const queue = new DeadlineQueue();
    for (let i = 0; i < 20_000; i++) queue.push(buffer.open(`t${i}`, i, i + 5), 5);
    let next = 5;
    // The lane drops its popped front once past 4,096 entries and half its length: at 12,345 here.
    for (const now of [0, 997, 4_000, 12_345, 19_999, 20_004]) {
      for (const popped of popAll(queue, now)) expect(popped).toEqual([`t${next - 5}`, next++]);
      queue.push(buffer.open(`later${now}`, now, now + 20_005), 5);
    }
    expect(next).toBe(20_005);
    expect(queue.peek()).toBe(20_005);
  });
});
