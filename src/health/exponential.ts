// Base-2 exponential histograms as OpenTelemetry defines them (the SDK's Base2ExponentialHistogram, OTLP's
// ExponentialHistogramDataPoint): bucket i at scale s holds (2^(i·2^-s), 2^((i+1)·2^-s)]. A histogram starts
// at the finest scale and halves its resolution whenever a value would need more than max_size buckets,
// so it covers any range in bounded memory. Only positive values and zeros: durations are never negative.

export const MAX_SCALE = 20;

export interface ExpoHistogram {
  scale: number;
  /** Index of counts[0]. */
  offset: number;
  counts: number[];
  zeroCount: number;
}

export const emptyExpo = (): ExpoHistogram => ({ scale: MAX_SCALE, offset: 0, counts: [], zeroCount: 0 });

export const cloneExpo = (h: ExpoHistogram): ExpoHistogram => ({ ...h, counts: [...h.counts] });

export const expoIndex = (value: number, scale: number): number =>
  Math.ceil(Math.log2(value) * 2 ** scale) - 1;

/** Halves the resolution `by` times: buckets i and i+1 (i even) become bucket i/2. */
export function downscale(h: ExpoHistogram, by: number): void {
  if (by <= 0) return;
  h.scale -= by;
  if (h.counts.length === 0) return;
  const offset = h.offset >> by;
  const counts: number[] = [];
  for (let i = 0; i < h.counts.length; i++) {
    const at = ((h.offset + i) >> by) - offset;
    counts[at] = (counts[at] ?? 0) + (h.counts[i] as number);
  }
  h.offset = offset;
  h.counts = counts;
}

/** How many halvings make the index range [low, high] fit in maxSize buckets. */
function reduction(low: number, high: number, maxSize: number): number {
  let by = 0;
  while ((high >> by) - (low >> by) + 1 > maxSize) by++;
  return by;
}

function place(h: ExpoHistogram, index: number, amount: number): void {
  if (h.counts.length === 0) {
    h.offset = index;
    h.counts.push(amount);
    return;
  }
  if (index < h.offset) {
    h.counts.unshift(...new Array<number>(h.offset - index).fill(0));
    h.offset = index;
  }
  const at = index - h.offset;
  while (h.counts.length <= at) h.counts.push(0);
  h.counts[at] = (h.counts[at] as number) + amount;
}

/** Fits the index range of `h` extended by [low, high] into maxSize buckets; returns the halvings done. */
function makeRoom(h: ExpoHistogram, low: number, high: number, maxSize: number): number {
  const from = h.counts.length === 0 ? low : Math.min(low, h.offset);
  const to = h.counts.length === 0 ? high : Math.max(high, h.offset + h.counts.length - 1);
  const by = reduction(from, to, maxSize);
  downscale(h, by);
  return by;
}

export function expoRecord(h: ExpoHistogram, value: number, weight: number, maxSize: number): void {
  if (!(value > 0)) {
    h.zeroCount += weight;
    return;
  }
  const index = expoIndex(value, h.scale);
  place(h, index >> makeRoom(h, index, index, maxSize), weight);
}

/** target += sign × source, at the coarser of their scales and within maxSize buckets. */
export function expoAdd(target: ExpoHistogram, source: ExpoHistogram, maxSize: number, sign = 1): void {
  const src = cloneExpo(source);
  if (src.scale > target.scale) downscale(src, src.scale - target.scale);
  if (target.scale > src.scale) downscale(target, target.scale - src.scale);
  target.zeroCount += sign * src.zeroCount;
  if (src.counts.length === 0) return;
  downscale(src, makeRoom(target, src.offset, src.offset + src.counts.length - 1, maxSize));
  for (let i = 0; i < src.counts.length; i++) place(target, src.offset + i, sign * (src.counts[i] as number));
}

/** later − earlier, for two states of one cumulative histogram (the later one is never finer). */
export function expoDifference(later: ExpoHistogram, earlier: ExpoHistogram | undefined): ExpoHistogram {
  const difference = cloneExpo(later);
  if (earlier) expoAdd(difference, earlier, Number.POSITIVE_INFINITY, -1);
  return difference;
}
