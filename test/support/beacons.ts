import type { Beacon } from '../../src/model/beacon.ts';
import { docsBeacon } from './docs-beacon.ts';
import { randomTraceId } from './ids.ts';
import type { RelayProcess } from './relay-process.ts';

/** The docs beacon under a fresh trace id (span ids kept: they only need to be unique within a trace). */
export function beaconWithTrace(traceId = randomTraceId(), changes: Partial<Beacon> = {}): Beacon {
  return { ...docsBeacon(), traceId, ...changes };
}

const example = docsBeacon();
export const SPANS_PER_BEACON = example.spans.length;

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** The docs beacon with trace and span ids unique to `n` (and to `run`), as JSON text. */
export function uniqueBeacon(n: number, run = 1): { text: string; spanIds: string[] } {
  const spanIds = example.spans.map((_, i) => `${hex(run, 4)}${hex(n, 8)}${hex(i, 4)}`);
  const beacon = {
    ...example,
    traceId: `${hex(run, 8)}${hex(n, 16)}${hex(Math.imul(n + 1, 2654435761) >>> 0, 8)}`,
    ts: Date.now(),
    spans: example.spans.map((span, i) => ({
      ...span,
      id: spanIds[i],
      ...(span.parent ? { parent: spanIds[0] } : {}),
    })),
  };
  return { text: JSON.stringify(beacon), spanIds };
}
export interface PostResult {
  /** Span ids of every beacon answered 202: the spans the relay promised to deliver. */
  acknowledged: string[];
  statuses: Map<number, number>;
  retryAfters: number[];
  /** Requests that got no answer (the relay had closed its port). */
  unanswered: number;
}

/**
 * Posts beacons `from` … `from + count - 1` with `concurrency` requests in flight, stopping early once
 * `stop()` says so. Bounded in count by construction. `onAcknowledged` runs after each 202, with the
 * number of beacons acknowledged so far (a test can act at the n-th acknowledgement).
 */
export async function postBeacons(
  relay: RelayProcess,
  options: {
    from?: number;
    count: number;
    concurrency?: number;
    run?: number;
    stop?: () => boolean;
    onAcknowledged?: (beacons: number) => void;
  },
): Promise<PostResult> {
  const { from = 0, count, concurrency = 8, run = 1, stop = () => false, onAcknowledged } = options;
  let acknowledgedBeacons = 0;
  const result: PostResult = { acknowledged: [], statuses: new Map(), retryAfters: [], unanswered: 0 };
  let next = from;
  const lane = async () => {
    while (next < from + count && !stop()) {
      const { text, spanIds } = uniqueBeacon(next++, run);
      try {
        const response = await relay.post('/v1/beacons', text);
        await response.arrayBuffer();
        result.statuses.set(response.status, (result.statuses.get(response.status) ?? 0) + 1);
        if (response.status === 202) {
          result.acknowledged.push(...spanIds);
          onAcknowledged?.(++acknowledgedBeacons);
        }
        const retryAfter = response.headers.get('retry-after');
        if (retryAfter !== null) result.retryAfters.push(Number(retryAfter));
      } catch {
        result.unanswered++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return result;
}
