import { type Admission, REASONS } from './admission.ts';

/** What the ack path reads of the admission decision. */
export type AdmissionDecision = Pick<Admission, 'shedding' | 'retryAfter' | 'why'>;

const WHY: readonly AdmissionDecision['why'][] = [undefined, ...REASONS];
const SHEDDING = 0;
const RETRY_AFTER = 1;
const REASON = 2;

/**
 * The admission decision in shared memory: the supervisor's timer decides (admission.ts) and publishes
 * here; every receiver thread reads it on each request without a message. The fields are written apart,
 * so a reader may see a new reason with the old flag for one request; the flag alone decides.
 */
export class AdmissionFlag implements AdmissionDecision {
  readonly buffer: SharedArrayBuffer;
  readonly #cells: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#cells = new Int32Array(buffer);
  }

  static allocate(): SharedArrayBuffer {
    return new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
  }

  publish(decision: AdmissionDecision): void {
    Atomics.store(this.#cells, RETRY_AFTER, decision.retryAfter);
    Atomics.store(this.#cells, REASON, WHY.indexOf(decision.why));
    Atomics.store(this.#cells, SHEDDING, decision.shedding ? 1 : 0);
  }

  get shedding(): boolean {
    return Atomics.load(this.#cells, SHEDDING) === 1;
  }

  get retryAfter(): number {
    return Atomics.load(this.#cells, RETRY_AFTER);
  }

  get why(): AdmissionDecision['why'] {
    return WHY[Atomics.load(this.#cells, REASON)];
  }
}
