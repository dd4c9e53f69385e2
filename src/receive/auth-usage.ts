import { WorkerRegions } from '../telemetry/worker-regions.ts';

// Use of receiver.auth tokens, by token id, in shared memory: one region per receiver, each written only
// by its own thread (plain stores, as the other receiver counters: telemetry/receiver-metrics.ts), so
// that counting on the auth path costs a store and the main thread serves /metrics and the audit log's
// last-use records from the sums, without a message. Token ids get slots in the order they first
// appear in receiver.auth (the start config, then each reload's), the same in every thread; ids are
// never given back (their counts only grow, as counters must), and ids past the last slot share it.
// Whether a token's first accepted request has been audited is one cell for the whole process,
// claimed with compare-and-swap, so that two threads taking its first requests at once record it once.

/** Results counted per token id: those of a request whose token matched one configured. */
export const TOKEN_RESULTS = ['accepted', 'expired', 'not_yet_valid'] as const;
export type TokenResult = (typeof TOKEN_RESULTS)[number];
export type UnmatchedResult = 'invalid' | 'missing';

/** Distinct token ids a process counts apart; more than a year of daily rotations. */
export const MAX_TOKEN_IDS = 512;
/** The label of the slot that ids beyond MAX_TOKEN_IDS share. */
export const OVERFLOW_ID = '(other)';

const UNMATCHED: Record<UnmatchedResult, number> = { invalid: 0, missing: 1 };
const LAST_USED = TOKEN_RESULTS.length;
const PER_TOKEN = LAST_USED + 1;
const FIRST_TOKEN = 2;
const SLOTS = FIRST_TOKEN + MAX_TOKEN_IDS * PER_TOKEN;

export interface AuthUsageBuffers {
  counts: SharedArrayBuffer;
  /** One Int32 per token slot: 1 once its first use is recorded. */
  firstUse: SharedArrayBuffer;
}

export function allocateAuthUsage(receivers: number): AuthUsageBuffers {
  return {
    counts: WorkerRegions.allocate(receivers, SLOTS),
    firstUse: new SharedArrayBuffer(MAX_TOKEN_IDS * Int32Array.BYTES_PER_ELEMENT),
  };
}

/** One receiver's counts of token use (written), and every receiver's (read, summed). */
export class AuthUsage {
  readonly #regions: WorkerRegions;
  readonly #mine: Float64Array;
  readonly #firstUse: Int32Array;
  readonly #slots = new Map<string, number>();

  constructor(buffers: AuthUsageBuffers, receiver: number) {
    this.#regions = new WorkerRegions(buffers.counts, SLOTS);
    this.#mine = this.#regions.region(receiver);
    this.#firstUse = new Int32Array(buffers.firstUse);
  }

  /** One receiver in this thread: what a receiver built without the relay's wiring (tests) counts in. */
  static alone(): AuthUsage {
    return new AuthUsage(allocateAuthUsage(1), 0);
  }

  /** The slot of a token id, given on its first appearance. */
  slot(id: string): number {
    let slot = this.#slots.get(id);
    if (slot === undefined) {
      slot = Math.min(this.#slots.size, MAX_TOKEN_IDS - 1);
      this.#slots.set(id, slot);
    }
    return slot;
  }

  /** Every id given a slot, with it, in the order they appeared (the last slot's label when shared). */
  ids(): [string, number][] {
    const named = new Map<number, string>();
    for (const [id, slot] of this.#slots) named.set(slot, named.has(slot) ? OVERFLOW_ID : id);
    return [...named].map(([slot, id]) => [id, slot]);
  }

  unmatched(result: UnmatchedResult): void {
    this.#mine[UNMATCHED[result]] = (this.#mine[UNMATCHED[result]] as number) + 1;
  }

  /** Counts a request whose token matched; `now` is its time (the last use, when accepted). */
  count(slot: number, result: TokenResult, now: number): void {
    const base = FIRST_TOKEN + slot * PER_TOKEN;
    const at = base + TOKEN_RESULTS.indexOf(result);
    this.#mine[at] = (this.#mine[at] as number) + 1;
    if (result === 'accepted') this.#mine[base + LAST_USED] = now;
  }

  /** True for exactly one caller in the process: the one that records the token's first use. */
  claimFirstUse(slot: number): boolean {
    return Atomics.compareExchange(this.#firstUse, slot, 0, 1) === 0;
  }

  unmatchedTotal(result: UnmatchedResult): number {
    return this.#regions.sum(UNMATCHED[result]);
  }

  total(slot: number, result: TokenResult): number {
    return this.#regions.sum(FIRST_TOKEN + slot * PER_TOKEN + TOKEN_RESULTS.indexOf(result));
  }

  /** Epoch ms of the token's last accepted request in any receiver; 0: none yet. */
  lastUsed(slot: number): number {
    let last = 0;
    const at = FIRST_TOKEN + slot * PER_TOKEN + LAST_USED;
    for (let receiver = 0; receiver < this.#regions.workers; receiver++) {
      last = Math.max(last, this.#regions.at(receiver, at));
    }
    return last;
  }
}
