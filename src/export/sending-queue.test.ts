import { describe, expect, it } from 'vitest';
import { SendingQueue } from './sending-queue.ts';

interface Item {
  spans: number;
  id: number;
}

/** A queue whose sends complete only when the test says so. */
function controlledQueue(config: { enabled: boolean; num_consumers: number; queue_size: number }) {
  const inFlight = new Map<number, () => void>();
  const sent: number[] = [];
  const sizes: [number, number][] = [];
  const queue = new SendingQueue<Item>(
    config,
    (item) =>
      new Promise<void>((resolve) => {
        sent.push(item.id);
        inFlight.set(item.id, resolve);
      }),
    (batches, spans) => sizes.push([batches, spans]),
  );
  const finish = async (id: number) => {
    inFlight.get(id)?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { queue, sent, sizes, finish };
}

describe('SendingQueue', () => {
  it('runs at most num_consumers sends and keeps order', async () => {
    const { queue, sent, finish } = controlledQueue({ enabled: true, num_consumers: 2, queue_size: 10 });
    for (let id = 1; id <= 4; id++) expect(queue.offer({ id, spans: 1 })).toBe(true);
    expect(sent).toEqual([1, 2]);
    await finish(1);
    expect(sent).toEqual([1, 2, 3]);
    expect(queue.size).toBe(3);
  });

  it('refuses batches past queue_size, so the caller can count them', () => {
    const { queue } = controlledQueue({ enabled: true, num_consumers: 1, queue_size: 2 });
    expect([1, 2, 3, 4].map((id) => queue.offer({ id, spans: 5 }))).toEqual([true, true, true, false]);
  });

  it('without a queue, takes a batch only when a sender is free', () => {
    const { queue } = controlledQueue({ enabled: false, num_consumers: 1, queue_size: 100 });
    expect(queue.offer({ id: 1, spans: 1 })).toBe(true);
    expect(queue.offer({ id: 2, spans: 1 })).toBe(false);
  });

  it('reports batches and spans, and resolves idle() when all sends are done', async () => {
    const { queue, sizes, finish } = controlledQueue({ enabled: true, num_consumers: 1, queue_size: 10 });
    queue.offer({ id: 1, spans: 3 });
    queue.offer({ id: 2, spans: 4 });
    expect(sizes.at(-1)).toEqual([2, 7]);
    expect(queue.spansInFlight).toBe(3);
    let idle = false;
    const done = queue.idle().then(() => {
      idle = true;
    });
    await finish(1);
    expect(idle).toBe(false);
    await finish(2);
    await done;
    expect(sizes.at(-1)).toEqual([0, 0]);
  });

  it('hands back waiting batches at a deadline', () => {
    const { queue } = controlledQueue({ enabled: true, num_consumers: 1, queue_size: 10 });
    for (let id = 1; id <= 3; id++) queue.offer({ id, spans: 2 });
    expect(queue.takeWaiting().map((item) => item.id)).toEqual([2, 3]);
    expect(queue.spansInFlight).toBe(2);
  });
});
