import { describe, expect, it } from 'vitest';
import { RestartBrake } from './restart-brake.ts';

describe('RestartBrake', () => {
  it('restarts at once, then after 1, 2, 4 and 8 s, and not a sixth time within the window', () => {
    const brake = new RestartBrake(5, 300_000);
    expect([0, 10, 20, 30, 40, 50].map((s) => brake.died(s * 1000))).toEqual([
      0,
      1000,
      2000,
      4000,
      8000,
      undefined,
    ]);
    expect(brake.refusal).toBe('died 6 times within 5 minutes; not restarted again');
  });

  it('forgets deaths older than the window: a shard that dies now and then is always restarted', () => {
    const brake = new RestartBrake(5, 300_000);
    const waits = Array.from({ length: 20 }, (_, n) => brake.died(n * 100_000));
    // Deaths 100 s apart: at most three fall in any 5 minutes (the one at the window's start has left it).
    expect(waits.slice(3)).toEqual(Array(17).fill(2000));
    expect(waits.slice(0, 3)).toEqual([0, 1000, 2000]);
  });
});
