/**
 * How soon a shard whose thread died is started again, and when it no longer is. The first restart is at
 * once (a rare bug costs one shard's buffer and nothing else); each further one within the window waits
 * twice as long as the one before, from one second, so a shard that dies on every start does not spin a
 * core and write off its hand-off over and over. Past `limit` restarts in the window the relay stops with
 * exit code 1 instead: a crash loop is for the orchestrator to see (Kubernetes' CrashLoopBackOff) and for
 * an operator to look at, not for the process to hide.
 */
export class RestartBrake {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #deaths: number[] = [];

  constructor(limit = 5, windowMs = 5 * 60_000) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** A death at `now`: milliseconds to wait before the restart, or undefined for no restart. */
  died(now: number): number | undefined {
    while (this.#deaths.length > 0 && (this.#deaths[0] as number) <= now - this.#windowMs)
      this.#deaths.shift();
    this.#deaths.push(now);
    const restarts = this.#deaths.length;
    if (restarts > this.#limit) return undefined;
    return restarts === 1 ? 0 : 1000 * 2 ** (restarts - 2);
  }

  /** What a refusal says: how many deaths in how long. */
  get refusal(): string {
    return `died ${this.#deaths.length} times within ${this.#windowMs / 60_000} minutes; not restarted again`;
  }
}
