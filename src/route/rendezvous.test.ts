import { describe, expect, it } from 'vitest';
import { randomTraceId } from '../../test/support/ids.ts';
import { Rendezvous } from './rendezvous.ts';

const members = (n: number) => Array.from({ length: n }, (_, i) => `http://10.0.0.${i + 1}:4318`);
const traceIds = Array.from({ length: 10_000 }, randomTraceId);

describe('Rendezvous', () => {
  it('gives every member about an equal share', () => {
    const ring = new Rendezvous(members(5));
    const counts = new Map<string, number>();
    for (const id of traceIds)
      counts.set(ring.ownerOf(id) as string, (counts.get(ring.ownerOf(id) as string) ?? 0) + 1);
    expect(counts.size).toBe(5);
    for (const count of counts.values()) expect(Math.abs(count / traceIds.length - 0.2)).toBeLessThan(0.02);
  });

  it('agrees whatever order the members are listed in', () => {
    const a = new Rendezvous(members(4));
    const b = new Rendezvous(members(4).reverse());
    for (const id of traceIds.slice(0, 1000)) expect(b.ownerOf(id)).toBe(a.ownerOf(id));
  });

  it('moves only the leaving member’s traces when one leaves', () => {
    const before = new Rendezvous(members(4));
    const after = new Rendezvous(members(4).slice(0, 3));
    const leaving = members(4)[3];
    let moved = 0;
    for (const id of traceIds) {
      const was = before.ownerOf(id);
      if (was === leaving) moved++;
      else expect(after.ownerOf(id)).toBe(was);
    }
    expect(moved / traceIds.length).toBeGreaterThan(0.2);
  });

  it('moves only the traces the joining member wins when one joins', () => {
    const before = new Rendezvous(members(3));
    const after = new Rendezvous(members(4));
    const joining = members(4)[3];
    for (const id of traceIds) {
      const now = after.ownerOf(id);
      if (now !== joining) expect(now).toBe(before.ownerOf(id));
    }
  });

  it('has no owner without members', () => {
    expect(new Rendezvous([]).ownerOf(traceIds[0] as string)).toBeUndefined();
  });
});
