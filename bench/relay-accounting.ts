// The relay's own account of every span, read from its /metrics text, so the bench can set it beside
// what the sink received: accepted = exported + dropped + sampled out + still in flight.

import { metricValue } from '../test/support/prometheus-text.ts';

/** Every reason the relay reports, including any added after this bench was written. */
function droppedByReason(text: string): Record<string, number> {
  const dropped: Record<string, number> = {};
  for (const match of text.matchAll(
    /^edge_relay_spans_dropped_total\{[^}]*reason="([^"]+)"[^}]*\} (\S+)$/gm,
  )) {
    dropped[match[1] as string] = (dropped[match[1] as string] ?? 0) + Number(match[2]);
  }
  return dropped;
}

export interface RelayAccounting {
  accepted: number;
  exported: number;
  sampledOut: number;
  dropped: Record<string, number>;
  /** Accepted but neither exported nor dropped yet: hand-off, sampling buffer, batch, sending queue. */
  inFlight: number;
}

export function readAccounting(text: string): RelayAccounting {
  const accepted = metricValue(text, 'edge_relay_spans_received_total', { result: 'accepted' });
  return {
    accepted,
    exported: metricValue(text, 'edge_relay_spans_exported_total'),
    sampledOut: metricValue(text, 'edge_relay_spans_sampled_out_total'),
    dropped: droppedByReason(text),
    inFlight: metricValue(text, 'edge_relay_spans_in_flight'),
  };
}

/** What happened during a scenario: every field is after − before, so the identity holds for it too. */
export function accountingDelta(after: RelayAccounting, before: RelayAccounting): RelayAccounting {
  return {
    accepted: after.accepted - before.accepted,
    exported: after.exported - before.exported,
    sampledOut: after.sampledOut - before.sampledOut,
    dropped: Object.fromEntries(
      Object.entries(after.dropped).map(([reason, n]) => [reason, n - (before.dropped[reason] ?? 0)]),
    ),
    inFlight: after.inFlight - before.inFlight,
  };
}

export const totalDropped = (a: RelayAccounting): number =>
  Object.values(a.dropped).reduce((sum, n) => sum + n, 0);

/** Accepted spans without an outcome yet (exported, dropped or sampled out), whatever the gauges say. */
export const withoutOutcome = (a: RelayAccounting): number =>
  a.accepted - a.exported - a.sampledOut - totalDropped(a);
