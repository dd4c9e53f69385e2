import type { BufferedTrace } from './trace-buffer.ts';

/** Deadlines pushed with one delay, in the order they were pushed: `head` is the next to pop. */
interface Lane {
  readonly delay: number;
  traces: BufferedTrace[];
  ats: number[];
  head: number;
}

/**
 * Trace deadlines in the order they fall due: one timer per shard finds every due trace, instead of a
 * timer per trace. A deadline is the clock at push plus a delay shared by every trace of its kind
 * (decision_wait, decision_wait_after_root_received), so a first-in-first-out lane per delay is already
 * in deadline order, and push and pop are constant time. A trace whose deadline moved earlier is pushed
 * again in another lane; stale entries are skipped by the caller. Should the clock step back, a lane's
 * later entries wait behind its head for at most that step.
 *
 * Not the binary heap it replaces: with decision_wait's worth of traces queued (20,000 at 10,000 a
 * second), each sift touched ~15 entries scattered in memory, and the tick's loop over the heap (pops,
 * the buffer lookups that skipped stale entries, re-arming) was 11% of a sampling shard's busy time in a
 * profile of the bench's realistic run; the sampler micro-bench's numbers for the change are in
 * docs/sampling.md.
 */
export class DeadlineQueue {
  // One or two lanes, more only for a while after a reload changes a delay: an array, scanned.
  readonly #lanes: Lane[] = [];

  push(trace: BufferedTrace, delay: number): void {
    let lane: Lane | undefined;
    for (const l of this.#lanes) if (l.delay === delay) lane = l;
    if (!lane) {
      lane = { delay, traces: [], ats: [], head: 0 };
      this.#lanes.push(lane);
    }
    lane.traces.push(trace);
    lane.ats.push(trace.deadline);
  }

  /** The earliest deadline still queued (possibly stale), or undefined. */
  peek(): number | undefined {
    let next: number | undefined;
    for (const lane of this.#lanes) {
      const at = lane.ats[lane.head] as number;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  /** Takes every entry due by `now`, earliest lane head first, handing each to `due` with the deadline it was queued at. */
  popDue(now: number, due: (trace: BufferedTrace, at: number) => void): void {
    for (;;) {
      let first: Lane | undefined;
      for (const lane of this.#lanes) {
        if (!first || (lane.ats[lane.head] as number) < (first.ats[first.head] as number)) first = lane;
      }
      if (!first) return;
      const at = first.ats[first.head] as number;
      if (at > now) return;
      const trace = first.traces[first.head] as BufferedTrace;
      this.#advance(first);
      due(trace, at);
    }
  }

  #advance(lane: Lane): void {
    lane.head++;
    if (lane.head === lane.ats.length) {
      this.#lanes.splice(this.#lanes.indexOf(lane), 1);
      return;
    }
    // Drop the popped front now and then: the copy is amortised over the entries popped since.
    if (lane.head >= 4096 && lane.head * 2 >= lane.ats.length) {
      lane.traces.splice(0, lane.head);
      lane.ats.splice(0, lane.head);
      lane.head = 0;
    }
  }

  clear(): void {
    this.#lanes.length = 0;
  }
}
