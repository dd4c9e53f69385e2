import type { Clock } from './policy.ts';

/** Tokens refill continuously at `perSecond` up to `burst`; a take succeeds only if all tokens are there. */
export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #at: number;

  constructor(perSecond: number, burst: number, clock: Clock) {
    this.#perMs = perSecond / 1000;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#at = clock();
  }

  take(amount: number): boolean {
    const now = this.#clock();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) * this.#perMs);
    this.#at = now;
    if (amount > this.#tokens) return false;
    this.#tokens -= amount;
    return true;
  }
}
