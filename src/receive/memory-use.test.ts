import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { sharedMetrics } from '../../test/support/shared-memory.ts';
import {
  allocateReceiverMetrics,
  ReceiverMetricsReader,
  ReceiverMetricsWriter,
} from '../telemetry/receiver-metrics.ts';
import { MemoryUse, type ThreadMemory } from './memory-use.ts';

function setup() {
  const { reader, writers: workers } = sharedMetrics(2);
  const mine: ThreadMemory = { heapUsed: 100, arrayBuffers: 0, rss: 1000 };
  const collections: number[] = [];
  const buffer = allocateReceiverMetrics(2);
  const receivers = [0, 1].map((receiver) => new ReceiverMetricsWriter(buffer, receiver));
  const receiverMemory = new ReceiverMetricsReader(buffer);
  const use = new MemoryUse({
    limits: { hard: 1000, soft: 800, rss: 10_000 },
    gcIntervals: { soft: 10_000, hard: 0 },
    shared: reader,
    receivers: () => receiverMemory.memoryUsed(),
    own: () => ({ ...mine }),
    collect() {
      collections.push(mine.heapUsed);
      // What a collection frees on this thread shows at once.
      mine.heapUsed = 100;
    },
    registry: new Registry(),
  });
  return { use, workers, receivers, mine, collections };
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

  it('adds what receiver threads publish of theirs', () => {
    const { use, receivers } = setup();
    receivers[0]?.memory(70, 5);
    receivers[1]?.memory(20, 5);
    expect(use.sample(0).used).toBe(200);
    receivers[1]?.memory(10, 0);
    expect(use.sample(1).used).toBe(185);
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
