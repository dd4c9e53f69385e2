/**
 * Marks a request one replica forwards to another, with the number of hops so far. The receiver hands
 * the count to the worker: forwarded spans are owned where they land (at most one more hop, to a trace's
 * new owner after a membership change), so spans never travel in a loop.
 */
export const FORWARDED_HEADER = 'x-edge-relay-forwarded';

/** Spans that have travelled this many hops are kept wherever they are. */
export const MAX_HOPS = 2;

/** The hop count a request carries: 0 for data from a client, capped at MAX_HOPS. */
export function hopsOf(header: string | string[] | undefined): number {
  const value = Number(Array.isArray(header) ? header[0] : header);
  return Number.isInteger(value) && value > 0 ? Math.min(value, MAX_HOPS) : 0;
}
