import type { Worker } from 'node:worker_threads';

/**
 * Asks every thread to finish (`request`), waits for each to answer `{ type: answer }` or to exit,
 * then terminates it. The threads finish in parallel: each one's wait is its own.
 */
export async function stopThreads(
  threads: readonly Worker[],
  request: unknown,
  answer: string,
): Promise<void> {
  await Promise.all(
    threads.map(async (thread) => {
      const finished = new Promise<void>((resolve) => {
        thread.on('message', (message: { type?: unknown }) => {
          if (message.type === answer) resolve();
        });
        thread.once('exit', () => resolve());
      });
      thread.postMessage(request);
      await finished;
      await thread.terminate();
    }),
  );
}
