import type { SpanRecord } from '../model/span.ts';

/** The last stage of a worker's pipeline: takes batches of kept spans and delivers (or counts) them. */
export interface Exporter {
  /** Takes ownership of a batch; never throws and never blocks the caller on the backend. */
  export(records: readonly SpanRecord[]): void;
  /** Resolves when everything handed over has been delivered or counted as dropped, or at the deadline. */
  drain(deadline: number): Promise<void>;
  /** New request headers (rotated credentials) for every later request, retries included. */
  setHeaders?(headers: Record<string, string>): void;
}
