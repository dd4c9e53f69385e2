import type { AuditSink } from '../../telemetry/audit-log.ts';

const WINDOW_MS = 60_000;
/** Addresses named per window; beyond them failures are only counted, so a scan cannot flood the log. */
const MAX_SOURCES = 40;

type Tally = Record<string, number>;

/**
 * Authentication failures for the audit log, one `auth.failures` record per minute (of the wall clock)
 * that had any: per source address, how many requests were refused and why. Counting is a map update;
 * the record is written when the minute is over (or at shutdown).
 */
export class AuthFailures {
  readonly #audit: AuditSink;
  readonly #now: () => number;
  #window = 0;
  #sources = new Map<string, Tally>();
  #otherFailures = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(audit: AuditSink, now: () => number = Date.now) {
    this.#audit = audit;
    this.#now = now;
  }

  add(address: string, result: string): void {
    const now = this.#now();
    const window = now - (now % WINDOW_MS);
    if (window !== this.#window) {
      this.flush();
      this.#window = window;
      this.#timer = setTimeout(() => this.flush(), window + WINDOW_MS - now).unref();
    }
    let tally = this.#sources.get(address);
    if (!tally) {
      if (this.#sources.size >= MAX_SOURCES) {
        this.#otherFailures++;
        return;
      }
      tally = {};
      this.#sources.set(address, tally);
    }
    tally[result] = (tally[result] ?? 0) + 1;
  }

  /** Records the current window, if it had failures. */
  flush(): void {
    clearTimeout(this.#timer);
    if (this.#sources.size === 0 && this.#otherFailures === 0) return;
    const sources = [...this.#sources].map(([address, tally]) => ({
      address,
      failures: Object.values(tally).reduce((a, b) => a + b, 0),
      results: tally,
    }));
    this.#audit.record('auth.failures', {
      window_start: new Date(this.#window).toISOString(),
      window_end: new Date(this.#window + WINDOW_MS).toISOString(),
      sources,
      other_failures: this.#otherFailures,
    });
    this.#sources = new Map();
    this.#otherFailures = 0;
  }
}
