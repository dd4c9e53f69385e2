import { describe, expect, it } from 'vitest';
import { DeadlineQueue } from './deadline-queue.ts';
import { TraceBuffer } from './trace-buffer.ts';

describe('DeadlineQueue', () => {
  it('pops due traces in deadline order and nothing that is not due', () => {
    const buffer = new TraceBuffer();
    const queue = new DeadlineQueue();
    const deadlines = Array.from({ length: 500 }, (_, i) => (i * 7919) % 1000);
    for (const [i, at] of deadlines.entries()) queue.push(buffer.open(`t${i}`, 0, at));
    const popped: number[] = [];
    for (let due = queue.popDue(499); due; due = queue.popDue(499)) popped.push(due.at);
    expect(popped).toEqual(deadlines.filter((d) => d <= 499).sort((a, b) => a - b));
    expect(queue.peek()).toBe(Math.min(...deadlines.filter((d) => d > 499)));
  });
});
