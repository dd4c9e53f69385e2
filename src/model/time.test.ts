import { describe, expect, it } from 'vitest';
import { msToNanos } from './time.ts';

describe('msToNanos', () => {
  it('converts epoch milliseconds with microsecond decimals exactly', () => {
    expect(msToNanos(1764070000123.25)).toBe(1764070000123250000n);
    expect(msToNanos(1764070000123.001)).toBe(1764070000123001000n);
    expect(msToNanos(1764070000123.999)).toBe(1764070000123999000n);
  });

  it('adds sub-millisecond offsets to the nanosecond', () => {
    expect(msToNanos(1764070000123, 0.000001)).toBe(1764070000123000001n);
    expect(msToNanos(1764070000123, 41.318)).toBe(1764070000164318000n);
    expect(msToNanos(1764070000123.25, 86_399_999.999999)).toBe(1764156400123249999n);
  });

  it('handles the epoch itself', () => {
    expect(msToNanos(0, 0)).toBe(0n);
  });
});
