import type { RelayProcess } from '../support/relay-process.ts';
import { waitFor } from '../support/wait-for.ts';

// Test traffic for the tail sampling integration tests: traces whose spans are split across several
// beacons, posted out of order, as edge functions send them.

export interface BeaconSpan {
  id: string;
  parent?: string;
  name: string;
  start: number;
  dur: number;
  status?: 'error' | 'ok';
  attrs?: Record<string, string | number | boolean>;
}

export interface TestTrace {
  traceId: string;
  spans: BeaconSpan[];
  pop?: string;
  version?: string;
  traceState?: string;
  flags?: number;
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** A trace id with the given 56-bit randomness (its last 14 hex digits) and a unique prefix. */
export const traceIdWith = (serial: number, randomness: bigint): string =>
  `${hex(serial + 1, 18)}${randomness.toString(16).padStart(14, '0')}`;

/** A trace of a root and `children` child spans; `error` marks the last child as failed. */
export function testTrace(
  traceId: string,
  options: {
    children?: number;
    error?: boolean;
    path?: string;
    durMs?: number;
    attrs?: Record<string, string | number | boolean>;
  } = {},
): TestTrace {
  const rootId = `${traceId.slice(6, 18)}0001`;
  const children = options.children ?? 5;
  const spans: BeaconSpan[] = [
    {
      id: rootId,
      name: 'GET',
      start: 0,
      dur: options.durMs ?? 40,
      attrs: { 'url.path': options.path ?? '/', ...options.attrs },
    },
  ];
  for (let i = 0; i < children; i++) {
    spans.push({
      id: `${traceId.slice(6, 18)}${hex(i + 2, 4)}`,
      parent: rootId,
      name: `step ${i}`,
      start: 1 + i,
      dur: 1,
      ...(options.error && i === children - 1 ? { status: 'error' as const } : {}),
    });
  }
  return { traceId, spans };
}

/** The JSON text of a beacon carrying some spans of a trace. */
export function beacon(trace: TestTrace, spans: BeaconSpan[]): string {
  return JSON.stringify({
    v: 1,
    traceId: trace.traceId,
    flags: trace.flags ?? 1,
    ...(trace.traceState ? { traceState: trace.traceState } : {}),
    ts: 1764070000000,
    worker: { id: '42817', version: trace.version ?? '1.4.2' },
    edge: { ip: '203.0.113.7', pop: trace.pop ?? 'FRA' },
    spans,
  });
}

/** Splits each trace into `parts` beacons (children first, root last) and shuffles all beacons. */
export function outOfOrderBeacons(traces: TestTrace[], parts = 3): string[] {
  const beacons: string[] = [];
  for (const trace of traces) {
    const ordered = [...trace.spans.slice(1), trace.spans[0] as BeaconSpan];
    const size = Math.ceil(ordered.length / parts);
    for (let i = 0; i < ordered.length; i += size) beacons.push(beacon(trace, ordered.slice(i, i + size)));
  }
  // A fixed shuffle: out of order, yet the same on every run.
  let seed = 7;
  for (let i = beacons.length - 1; i > 0; i--) {
    seed = (seed * 48271) % 2147483647;
    const j = seed % (i + 1);
    [beacons[i], beacons[j]] = [beacons[j] as string, beacons[i] as string];
  }
  return beacons;
}

/** Posts beacons a few at a time; every one must be acknowledged. */
export async function postAll(relay: RelayProcess, beacons: string[], concurrency = 16): Promise<void> {
  for (let i = 0; i < beacons.length; i += concurrency) {
    const replies = await Promise.all(
      beacons.slice(i, i + concurrency).map((b) => relay.post('/v1/beacons', b)),
    );
    for (const reply of replies) if (reply.status !== 202) throw new Error(`beacon refused: ${reply.status}`);
  }
}

/** Sum of a labelled metric over the given label values. */
export async function metricSum(
  relay: RelayProcess,
  name: string,
  label: string,
  values: string[],
): Promise<number> {
  let sum = 0;
  for (const value of values) sum += await relay.metric(name, { [label]: value });
  return sum;
}

/** Waits until the relay has decided `count` traces in total. */
export function decided(relay: RelayProcess, count: number, timeoutMs = 20_000): Promise<true> {
  return waitFor(
    async () =>
      (await metricSum(relay, 'edge_relay_sampling_traces_decided_total', 'decision', [
        'sampled',
        'not_sampled',
        'dropped',
      ])) >= count,
    `${count} sampling decisions`,
    timeoutMs,
  );
}

/** Relay settings that send to the sink and export kept spans quickly. */
export const toSink = (url: string) => ({
  exporter: { traces_endpoint: url, compression: 'none' },
  batch: { timeout: '20ms' },
  workers: { threads: 2 },
});
