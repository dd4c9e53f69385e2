// Ack latencies at microsecond resolution: autocannon's own histogram keeps whole milliseconds, too
// coarse for a 2 ms goal. Samples are kept (bounded) and sorted once at the end.

const MAX_SAMPLES = 8_000_000;

export interface LatencySummary {
  /** Milliseconds. */
  p50: number;
  p99: number;
  p999: number;
  max: number;
  samples: number;
}

export class LatencyRecorder {
  #samples = new Float64Array(65_536);
  #count = 0;

  record(ms: number): void {
    if (this.#count === this.#samples.length) {
      if (this.#count === MAX_SAMPLES) return;
      const grown = new Float64Array(Math.min(MAX_SAMPLES, this.#count * 2));
      grown.set(this.#samples);
      this.#samples = grown;
    }
    this.#samples[this.#count++] = ms;
  }

  summary(): LatencySummary {
    return summarize(this.#samples.subarray(0, this.#count));
  }
}

/** Nearest-rank percentiles of the samples (sorted in place). */
export function summarize(samples: Float64Array): LatencySummary {
  samples.sort();
  const at = (q: number): number =>
    samples.length === 0
      ? Number.NaN
      : (samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)] as number);
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: at(1), samples: samples.length };
}
