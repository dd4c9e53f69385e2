import { ConfigError } from './errors.ts';

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;

/**
 * Parses a Go-style duration ("200ms", "1m30s") as the Collector's YAML uses, or a bare number of milliseconds.
 * Returns milliseconds.
 */
export function parseDuration(key: string, value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value !== 'string' || value === '') {
    throw new ConfigError(key, `expected a duration such as "5s" or "200ms", got ${JSON.stringify(value)}`);
  }
  if (value === '0') return 0;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let m = PART.exec(value); m !== null; m = PART.exec(value)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    consumed = PART.lastIndex;
  }
  if (consumed !== value.length) {
    throw new ConfigError(key, `"${value}" is not a duration; use a number with a unit: ns, us, ms, s, m, h`);
  }
  return total;
}
