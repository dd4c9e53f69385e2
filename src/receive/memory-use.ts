import { Counter, type Registry } from 'prom-client';
import type { SharedMetricsReader } from '../telemetry/shared-metrics.ts';
import type { MemoryLimits } from './memory-limit.ts';

/** What process.memoryUsage() says of this thread (heap, array buffers) and of the process (RSS). */
export type ThreadMemory = Pick<NodeJS.MemoryUsage, 'heapUsed' | 'arrayBuffers' | 'rss'>;

export interface MemoryUseSources {
  limits: MemoryLimits;
  /** Milliseconds at least between forced collections over the soft and over the hard limit. */
  gcIntervals: { soft: number; hard: number };
  /** Each worker's heap and array buffers, which it publishes itself. */
  shared: SharedMetricsReader;
  own: () => ThreadMemory;
  /** Forces a full collection on every thread: this one at once, each worker on its next turn. */
  collect: () => void;
  registry: Registry;
}

/**
 * What the memory limiter decides on: V8 heap in use plus array-buffer bytes, of the main thread and
 * of every worker. Unlike RSS, which keeps the pages a burst of large bodies took, this falls once the
 * data is freed, provided a collection runs: while over the soft limit one is forced on every thread,
 * at most every `gcIntervals.soft` (`hard` over the hard limit), as the Collector's limiter does.
 * Array buffers rather than `external`: V8 updates its external count only at the next collection,
 * array-buffer bytes as soon as they are freed.
 */
export class MemoryUse {
  readonly #sources: MemoryUseSources;
  readonly #collections: Counter;
  #lastCollect = Number.NEGATIVE_INFINITY;

  constructor(sources: MemoryUseSources) {
    this.#sources = sources;
    this.#collections = new Counter({
      name: 'edge_relay_memory_limiter_collections_total',
      help: 'Garbage collections the memory limiter forced on every thread while over its soft limit',
      registers: [sources.registry],
    });
  }

  /** Memory in use and RSS now, after a forced collection when one is due. */
  sample(now: number): { used: number; rss: number } {
    const { limits, gcIntervals, shared, own, collect } = this.#sources;
    const workers = shared.read('workerHeapUsed') + shared.read('workerArrayBuffers');
    const mine = own();
    const used = mine.heapUsed + mine.arrayBuffers + workers;
    if (used <= limits.soft) return { used, rss: mine.rss };
    if (now - this.#lastCollect < (used > limits.hard ? gcIntervals.hard : gcIntervals.soft)) {
      return { used, rss: mine.rss };
    }
    this.#lastCollect = now;
    this.#collections.inc();
    collect();
    // This thread's collection shows at once; the workers' at their next publication.
    const after = own();
    return { used: after.heapUsed + after.arrayBuffers + workers, rss: after.rss };
  }
}
