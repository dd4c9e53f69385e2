import { expect } from 'vitest';
import { type DropReason, SHARED_METRICS } from '../../src/telemetry/shared-metrics.ts';
import type { OtlpSink } from './otlp-sink.ts';
import { metricValue } from './prometheus-text.ts';
import type { RelayProcess } from './relay-process.ts';
import { waitFor } from './wait-for.ts';

const DROP_REASONS = SHARED_METRICS.spansDropped.values;

export interface Accounting {
  received: number;
  recovered: number;
  exported: number;
  sampledOut: number;
  /** Sent to the replica that owns the trace (which counts them as received). */
  forwarded: number;
  dropped: Record<DropReason, number>;
  droppedTotal: number;
  inFlight: number;
}

/** The accounting identity's terms, all from one scrape of /metrics so that they agree with each other. */
export async function readAccounting(relay: RelayProcess): Promise<Accounting> {
  const text = await (await fetch(`http://127.0.0.1:${relay.adminPort}/metrics`)).text();
  const dropped = Object.fromEntries(
    DROP_REASONS.map((reason) => [reason, metricValue(text, 'edge_relay_spans_dropped_total', { reason })]),
  ) as Accounting['dropped'];
  return {
    received: metricValue(text, 'edge_relay_spans_received_total', { result: 'accepted' }),
    recovered: metricValue(text, 'edge_relay_spans_recovered_total'),
    exported: metricValue(text, 'edge_relay_spans_exported_total'),
    sampledOut: metricValue(text, 'edge_relay_spans_sampled_out_total'),
    forwarded: metricValue(text, 'edge_relay_cluster_spans_forwarded_total'),
    dropped,
    droppedTotal: Object.values(dropped).reduce((a, b) => a + b, 0),
    inFlight: metricValue(text, 'edge_relay_spans_in_flight'),
  };
}

const settledSide = (a: Accounting): number => a.exported + a.sampledOut + a.forwarded + a.droppedTotal;

/** received + recovered = exported + sampled out + forwarded + dropped + in flight, with nothing in flight. */
export function expectSettled(a: Accounting): void {
  expect(a.received + a.recovered).toBe(settledSide(a) + a.inFlight);
  expect(a.inFlight).toBe(0);
}

const balanced = (a: Accounting): boolean => a.inFlight === 0 && a.received + a.recovered === settledSide(a);

/**
 * Waits (polling) until nothing is in flight and the identity holds, then checks it once more on a
 * fresh scrape. One scrape is not atomic (a worker may settle spans between the lines of one
 * scrape), so a single reading may be off while spans move; at rest it must add up exactly, and a
 * span that went missing keeps it from ever doing so (the wait times out).
 */
export async function settledAccounting(relay: RelayProcess, timeoutMs = 60_000): Promise<Accounting> {
  await waitFor(
    async () => balanced(await readAccounting(relay)),
    'every span to be exported, sampled out or dropped, and the accounting identity to hold',
    timeoutMs,
  );
  const settled = await readAccounting(relay);
  expectSettled(settled);
  return settled;
}

/**
 * Every acknowledged span reached the sink, except those tail sampling decided against (counted), and
 * the sink got nothing else.
 */
export function expectDelivered(acknowledged: readonly string[], sink: OtlpSink, a: Accounting): void {
  const arrived = new Set(sink.spans().map((s) => s.spanId));
  const promised = new Set(acknowledged);
  expect([...arrived].filter((id) => !promised.has(id))).toEqual([]);
  expect(arrived.size).toBe(a.exported);
  expect(a.exported + a.sampledOut).toBe(promised.size);
}
