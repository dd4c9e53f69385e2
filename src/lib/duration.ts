import { ConfigError } from './errors.ts';

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 MICRO SIGN
  μs: 1e-3, // U+03BC GREEK SMALL LETTER MU: Go accepts both
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
// Go's time.ParseDuration: one or more decimal numbers (".5", "1.", "10") each with a unit, no sign here.
const PART = /(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Parses a duration the way the Collector's YAML does (Go's time.ParseDuration: "200ms", "1h2m", ".5s",
 * "10us"); returns milliseconds. A bare number is refused rather than guessed: the Collector reads it as
 * nanoseconds, and reading it as anything else would silently change a pasted config. 0 is the one
 * number without a unit Go accepts, and means the same in any unit.
 */
export function parseDuration(key: string, value: unknown): number {
  if (value === 0 || value === '0') return 0;
  if (typeof value === 'number') {
    throw new ConfigError(key, `${value} has no unit; write a duration such as "${value}ms" or "${value}s"`);
  }
  if (typeof value !== 'string' || value === '') {
    throw new ConfigError(key, `expected a duration such as "5s" or "200ms", got ${JSON.stringify(value)}`);
  }
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let m = PART.exec(value); m !== null; m = PART.exec(value)) {
    const number = m[1] as string;
    if (number === '' || number === '.') break;
    total += Number(number) * (UNIT_MS[m[2] as string] as number);
    consumed = PART.lastIndex;
  }
  if (consumed !== value.length) {
    throw new ConfigError(key, `"${value}" is not a duration; use a number with a unit: ns, us, ms, s, m, h`);
  }
  return total;
}
