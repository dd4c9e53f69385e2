const NS_PER_MS = 1_000_000n;

/** Whole nanoseconds of a small millisecond offset (a beacon span's start or duration), rounded. */
export const offsetNanos = (offsetMs: number): number => Math.round(offsetMs * 1_000_000);

/**
 * Exact nanoseconds of `baseMs + offsetMs`, where the base is epoch milliseconds (with at most
 * microsecond decimals) and the offset a small millisecond value with sub-millisecond fraction.
 * Doubles cannot hold epoch nanoseconds, so the integer and fractional parts are converted apart.
 */
export function msToNanos(baseMs: number, offsetMs = 0): bigint {
  const wholeMs = Math.floor(baseMs);
  const baseFractionNs = Math.round((baseMs - wholeMs) * 1000) * 1000;
  return BigInt(wholeMs) * NS_PER_MS + BigInt(baseFractionNs + offsetNanos(offsetMs));
}
