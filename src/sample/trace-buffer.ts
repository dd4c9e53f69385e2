import { isLocalRoot, type SpanRecord } from '../model/span.ts';
import { type HeldBeacon, heldBytes, heldRoot, heldSpans } from './held-beacon.ts';

export type WaitReason = 'wait' | 'root';

/** A trace awaiting its decision. */
export interface BufferedTrace {
  readonly traceId: string;
  readonly spans: SpanRecord[];
  /** Beacons not yet read into `spans` (held-beacon.ts); they are read before the trace is decided. */
  held: HeldBeacon[] | undefined;
  /** Spans in `spans` and `held`. */
  count: number;
  /** Estimated encoded bytes of `spans`, and the hand-off text length of `held`. */
  bytes: number;
  /** Epoch ms when its first span arrived. */
  readonly firstArrival: number;
  /** Epoch ms at which it is due; earlier than decision_wait once the root has arrived. */
  deadline: number;
  dueBecause: WaitReason;
  rootSeen: boolean;
  /** Until it leaves the buffer: entries for it still queued (deadline-queue.ts) are then skipped. */
  buffered: boolean;
}

/**
 * The traces of one shard awaiting decisions, with running totals for the memory bound. A Map keeps
 * insertion order, so the oldest traces are always at the front.
 */
export class TraceBuffer {
  readonly #traces = new Map<string, BufferedTrace>();
  spans = 0;
  bytes = 0;

  get size(): number {
    return this.#traces.size;
  }

  get(traceId: string): BufferedTrace | undefined {
    return this.#traces.get(traceId);
  }

  open(traceId: string, now: number, deadline: number): BufferedTrace {
    const trace: BufferedTrace = {
      traceId,
      spans: [],
      held: undefined,
      count: 0,
      bytes: 0,
      firstArrival: now,
      deadline,
      dueBecause: 'wait',
      rootSeen: false,
      buffered: true,
    };
    this.#traces.set(traceId, trace);
    return trace;
  }

  add(trace: BufferedTrace, record: SpanRecord): void {
    trace.spans.push(record);
    trace.count++;
    trace.bytes += record.size;
    this.spans++;
    this.bytes += record.size;
    if (isLocalRoot(record.span)) trace.rootSeen = true;
  }

  /** Its length in the hand-off text stands for its size: that is what it holds until decided. */
  addHeld(trace: BufferedTrace, beacon: HeldBeacon): void {
    const bytes = heldBytes(beacon);
    const spans = heldSpans(beacon);
    if (trace.held) trace.held.push(beacon);
    else trace.held = [beacon];
    trace.count += spans;
    trace.bytes += bytes;
    this.spans += spans;
    this.bytes += bytes;
    if (heldRoot(beacon)) trace.rootSeen = true;
  }

  remove(trace: BufferedTrace): void {
    trace.buffered = false;
    this.#traces.delete(trace.traceId);
    this.spans -= trace.count;
    this.bytes -= trace.bytes;
  }

  /** Of the `window` oldest traces, the largest: under memory pressure it frees the most for the least loss of wait. */
  victim(window: number): BufferedTrace | undefined {
    let pick: BufferedTrace | undefined;
    let seen = 0;
    for (const trace of this.#traces.values()) {
      if (!pick || trace.bytes > pick.bytes) pick = trace;
      if (++seen >= window) break;
    }
    return pick;
  }

  all(): BufferedTrace[] {
    return [...this.#traces.values()];
  }
}
