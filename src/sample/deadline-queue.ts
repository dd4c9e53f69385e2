import type { BufferedTrace } from './trace-buffer.ts';

interface Entry {
  readonly at: number;
  readonly trace: BufferedTrace;
}

/**
 * A binary min-heap of trace deadlines: one timer per shard finds every due trace, instead of a timer per
 * trace. A trace whose deadline moved earlier is pushed again; stale entries are skipped when popped.
 */
export class DeadlineQueue {
  readonly #heap: Entry[] = [];

  push(trace: BufferedTrace): void {
    const heap = this.#heap;
    heap.push({ at: trace.deadline, trace });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as Entry).at <= (heap[i] as Entry).at) break;
      [heap[parent], heap[i]] = [heap[i] as Entry, heap[parent] as Entry];
      i = parent;
    }
  }

  /** The earliest deadline still queued (possibly stale), or undefined. */
  peek(): number | undefined {
    return this.#heap[0]?.at;
  }

  /** Removes and returns the earliest entry's trace when it is due by `now`. */
  popDue(now: number): { at: number; trace: BufferedTrace } | undefined {
    const heap = this.#heap;
    const top = heap[0];
    if (!top || top.at > now) return undefined;
    const last = heap.pop() as Entry;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < heap.length && (heap[left] as Entry).at < (heap[least] as Entry).at) least = left;
        if (right < heap.length && (heap[right] as Entry).at < (heap[least] as Entry).at) least = right;
        if (least === i) break;
        [heap[least], heap[i]] = [heap[i] as Entry, heap[least] as Entry];
        i = least;
      }
    }
    return top;
  }

  clear(): void {
    this.#heap.length = 0;
  }
}
