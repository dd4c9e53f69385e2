import { describe, expect, it } from 'vitest';
import { SendingQueue } from './sending-queue.ts';

/** A queue whose sends complete only when the test says so. */
function controlledQueue(consumers: number) {
  const inFlight = new Map<number, () => void>();
  const sent: number[] = [];
  const sizes: number[] = [];
  const queue = new SendingQueue<number>(
    consumers,
    (id) =>
      new Promise<void>((resolve) => {
        sent.push(id);
        inFlight.set(id, resolve);
      }),
    (batches) => sizes.push(batches),
  );
  const finish = async (id: number) => {
    inFlight.get(id)?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { queue, sent, sizes, finish };
}

describe('SendingQueue', () => {
  it('runs at most num_consumers sends and keeps order', async () => {
    const { queue, sent, finish } = controlledQueue(2);
    for (let id = 1; id <= 4; id++) queue.offer(id);
    expect(sent).toEqual([1, 2]);
    await finish(1);
    expect(sent).toEqual([1, 2, 3]);
    expect(queue.size).toBe(3);
  });

  it('reports its size, and resolves idle() when all sends are done', async () => {
    const { queue, sizes, finish } = controlledQueue(1);
    queue.offer(1);
    queue.offer(2);
    expect(sizes.at(-1)).toBe(2);
    let idle = false;
    const done = queue.idle().then(() => {
      idle = true;
    });
    await finish(1);
    expect(idle).toBe(false);
    await finish(2);
    await done;
    expect(sizes.at(-1)).toBe(0);
  });
});
