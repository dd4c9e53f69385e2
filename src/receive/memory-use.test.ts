import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { sharedMetrics } from '../../test/support/shared-memory.ts';
import { MemoryUse, type ThreadMemory } from './memory-use.ts';

function setup() {
  const { reader, writers: workers } = sharedMetrics(2);
  const mine: ThreadMemory = { heapUsed: 100, arrayBuffers: 0, rss: 1000 };
  const collections: number[] = [];
  const use = new MemoryUse({
    limits: { hard: 1000, soft: 800, rss: 10_000 },
    gcIntervals: { soft: 10_000, hard: 0 },
    shared: reader,
    own: () => ({ ...mine }),
    collect() {
      collections.push(mine.heapUsed);
      // What a collection frees on this thread shows at once.
      mine.heapUsed = 100;
    },
    registry: new Registry(),
  });
  return { use, workers, mine, collections };
}

describe('MemoryUse', () => {
  it('adds the heap and array buffers of this thread and of every worker', () => {
    const { use, workers, mine } = setup();
    mine.arrayBuffers = 50;
    workers[0]?.set('workerHeapUsed', 200);
    workers[1]?.set('workerHeapUsed', 150);
    workers[1]?.set('workerArrayBuffers', 25);
    expect(use.sample(0)).toEqual({ used: 525, rss: 1000 });
  });

  it('forces a collection over the soft limit, at most every soft interval, and always over the hard one', () => {
    const { use, mine, collections } = setup();
    mine.heapUsed = 900;
    expect(use.sample(0).used).toBe(100);
    mine.heapUsed = 900;
    expect(use.sample(5_000).used).toBe(900);
    expect(use.sample(10_000).used).toBe(100);
    mine.heapUsed = 1200;
    expect(use.sample(10_001).used).toBe(100);
    expect(collections).toEqual([900, 900, 1200]);
  });

  it('forces none under the soft limit', () => {
    const { use, mine, collections } = setup();
    mine.heapUsed = 800;
    use.sample(0);
    expect(collections).toEqual([]);
  });
});
