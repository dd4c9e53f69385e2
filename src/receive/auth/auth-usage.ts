import { WorkerRegions } from '../../telemetry/worker-regions.ts';

// Use of receiver.auth credentials (tokens, beacon keys, `oidc`), by id, in shared memory: one region
// per receiver, each written only by its own thread (plain stores, as the other receiver counters:
// telemetry/receiver-metrics.ts), so that counting on the auth path costs a store and the main thread
// serves /metrics and the audit log's last-use records from the sums, without a message. Ids get slots
// in the order they first appear (the start config, then each reload's, in the same order in every
// thread); ids are never given back (their counts only grow, as counters must), and ids past the last
// slot share it. Whether an id's first accepted request has been audited is one cell for the whole
// process, claimed with compare-and-swap, so that two threads taking its first requests at once
// record it once.

/** How a request's credential fared: the values of edge_relay_auth_requests_total{result}. */
export const AUTH_RESULTS = [
  'accepted',
  'expired',
  'not_yet_valid',
  'invalid',
  'unknown_key',
  'unavailable',
  'missing',
] as const;
export type AuthResult = (typeof AUTH_RESULTS)[number];

/** Distinct credential ids a process counts apart; more than a year of daily rotations. */
export const MAX_CREDENTIAL_IDS = 512;
/** The label of the slot that ids beyond MAX_CREDENTIAL_IDS share. */
export const OVERFLOW_ID = '(other)';

const RESULT = Object.fromEntries(AUTH_RESULTS.map((result, i) => [result, i])) as Record<AuthResult, number>;
// A region: requests that named no credential of ours, by result; then per id, its results and the
// epoch ms of its last accepted request.
const LAST_USED = AUTH_RESULTS.length;
const PER_ID = LAST_USED + 1;
const FIRST_ID = AUTH_RESULTS.length;
const SLOTS = FIRST_ID + MAX_CREDENTIAL_IDS * PER_ID;

export interface AuthUsageBuffers {
  counts: SharedArrayBuffer;
  /** One Int32 per id slot: 1 once its first use is recorded. */
  firstUse: SharedArrayBuffer;
}

export function allocateAuthUsage(receivers: number): AuthUsageBuffers {
  return {
    counts: WorkerRegions.allocate(receivers, SLOTS),
    firstUse: new SharedArrayBuffer(MAX_CREDENTIAL_IDS * Int32Array.BYTES_PER_ELEMENT),
  };
}

/** One receiver's counts of credential use (written), and every receiver's (read, summed). */
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

  /** The slot of a credential id, given on its first appearance. */
  slot(id: string): number {
    let slot = this.#slots.get(id);
    if (slot === undefined) {
      slot = Math.min(this.#slots.size, MAX_CREDENTIAL_IDS - 1);
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

  /** Counts a request that named no credential of ours. */
  unmatched(result: AuthResult): void {
    this.#mine[RESULT[result]] = (this.#mine[RESULT[result]] as number) + 1;
  }

  /** Counts a request that named the credential in `slot`; `now` is its time (the last use, when accepted). */
  count(slot: number, result: AuthResult, now: number): void {
    const base = FIRST_ID + slot * PER_ID;
    this.#mine[base + RESULT[result]] = (this.#mine[base + RESULT[result]] as number) + 1;
    if (result === 'accepted') this.#mine[base + LAST_USED] = now;
  }

  /** True for exactly one caller in the process: the one that records the id's first use. */
  claimFirstUse(slot: number): boolean {
    return Atomics.compareExchange(this.#firstUse, slot, 0, 1) === 0;
  }

  unmatchedTotal(result: AuthResult): number {
    return this.#regions.sum(RESULT[result]);
  }

  total(slot: number, result: AuthResult): number {
    return this.#regions.sum(FIRST_ID + slot * PER_ID + RESULT[result]);
  }

  /** Epoch ms of the id's last accepted request in any receiver; 0: none yet. */
  lastUsed(slot: number): number {
    let last = 0;
    const at = FIRST_ID + slot * PER_ID + LAST_USED;
    for (let receiver = 0; receiver < this.#regions.workers; receiver++) {
      last = Math.max(last, this.#regions.at(receiver, at));
    }
    return last;
  }
}
