import type { Counter } from 'prom-client';
import { type DropReason, SHARED_METRICS, type SharedMetricsReader } from './shared-metrics.ts';

/**
 * Where every span is: the identity the relay keeps, readable from /metrics and logged at shutdown.
 *   received + recovered = exported + sampled_out + forwarded + sum(dropped) + in_flight
 *   in_flight = in_handoff + buffered + batching + queued + forwarding
 * `forwarded` spans went to the replica that owns their trace, which counts them as received there.
 * `unaccounted` is the difference of the two sides: 0 whenever the pipeline is at rest.
 */
export interface Tally {
  received: number;
  recovered: number;
  exported: number;
  sampled_out: number;
  forwarded: number;
  dropped: Record<DropReason, number>;
  in_handoff: number;
  buffered: number;
  batching: number;
  queued: number;
  forwarding: number;
  in_flight: number;
  unaccounted: number;
}

/** Spans that have left the workers' hands: exported, forwarded to their owner, dropped for any reason, or sampled out. */
export function spansSettled(shared: SharedMetricsReader): number {
  let dropped = 0;
  for (const reason of SHARED_METRICS.spansDropped.values) dropped += shared.read('spansDropped', reason);
  return (
    shared.read('spansExported') + shared.read('spansForwarded') + dropped + shared.read('spansSampledOut')
  );
}

/** Spans the workers hold: awaiting a sampling decision, batching, in the sending queue, or being forwarded. */
export function spansHeldByWorkers(shared: SharedMetricsReader): number {
  return (
    shared.read('bufferedSpans') +
    shared.read('batchSpans') +
    shared.read('queueSpans') +
    shared.read('forwardPendingSpans')
  );
}

/** Spans acknowledged to clients, summed over protocols, from the receiver's counter. */
export async function spansAccepted(received: Counter<'result' | 'protocol'>): Promise<number> {
  const { values } = await received.get();
  return values.filter((v) => v.labels.result === 'accepted').reduce((sum, v) => sum + v.value, 0);
}

export function tally(shared: SharedMetricsReader, received: number): Tally {
  const dropped = Object.fromEntries(
    SHARED_METRICS.spansDropped.values.map((reason) => [reason, shared.read('spansDropped', reason)]),
  ) as Record<DropReason, number>;
  const recovered = shared.read('spansRecovered');
  const inHandoff = received - shared.read('spansIngested');
  const inFlight = inHandoff + spansHeldByWorkers(shared);
  return {
    received,
    recovered,
    exported: shared.read('spansExported'),
    sampled_out: shared.read('spansSampledOut'),
    forwarded: shared.read('spansForwarded'),
    dropped,
    in_handoff: inHandoff,
    buffered: shared.read('bufferedSpans'),
    batching: shared.read('batchSpans'),
    queued: shared.read('queueSpans'),
    forwarding: shared.read('forwardPendingSpans'),
    in_flight: inFlight,
    unaccounted: received + recovered - spansSettled(shared) - inFlight,
  };
}
