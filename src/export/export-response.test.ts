import { describe, expect, it } from 'vitest';
import { rejectedOf } from './export-response.ts';

describe('rejectedOf', () => {
  it('believes a claim within the batch', () => {
    expect(rejectedOf(0, 10)).toEqual({ rejected: 0, lie: false });
    expect(rejectedOf(4, 10)).toEqual({ rejected: 4, lie: false });
    expect(rejectedOf(10, 10)).toEqual({ rejected: 10, lie: false });
  });

  it('clamps a claim beyond the batch or below zero, and calls it a lie', () => {
    expect(rejectedOf(1_000_000, 10)).toEqual({ rejected: 10, lie: true });
    expect(rejectedOf(-5, 10)).toEqual({ rejected: 0, lie: true });
    expect(rejectedOf(Number.MAX_SAFE_INTEGER * 4, 10)).toEqual({ rejected: 10, lie: true });
  });
});
