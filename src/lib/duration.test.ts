import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it.each([
    ['200ms', 200],
    ['1m30s', 90_000],
    ['1h2m', 3_720_000],
    ['.5s', 500],
    ['1.5h', 5_400_000],
    ['1.s', 1000],
    ['10us', 0.01],
    ['10µs', 0.01],
    ['10μs', 0.01],
    ['1500ns', 0.0015],
    ['0', 0],
    [0, 0],
  ])('reads %j as Go does', (text, ms) => {
    expect(parseDuration('k', text)).toBeCloseTo(ms, 9);
  });

  it.each([['5'], ['1h2'], ['s'], ['.s'], ['-1s'], ['1 s'], ['5 parsecs'], [''], [true]])(
    'refuses %j, naming the key',
    (text) => {
      expect(() => parseDuration('batch.timeout', text)).toThrow(/^batch\.timeout: /);
    },
  );

  it('refuses a bare number instead of guessing its unit', () => {
    expect(() => parseDuration('exporter.timeout', 30)).toThrow(
      'exporter.timeout: 30 has no unit; write a duration such as "30ms" or "30s"',
    );
  });
});
