import {
  type DropReason,
  SHARED_METRICS,
  type SharedMetricName,
  type SharedMetricSpec,
  type SharedMetricsReader,
  type SharedMetricsWriter,
} from './shared-metrics.ts';

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

/**
 * Spans the workers hold (or one worker, by shard): awaiting a sampling decision, batching, in the
 * sending queue, or being forwarded.
 */
export function spansHeldByWorkers(shared: SharedMetricsReader, worker?: number): number {
  return (
    shared.read('bufferedSpans', undefined, worker) +
    shared.read('batchSpans', undefined, worker) +
    shared.read('queueSpans', undefined, worker) +
    shared.read('forwardPendingSpans', undefined, worker)
  );
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

/**
 * After a worker died: what it held is lost, and its replacement starts on the same region holding
 * nothing. The spans it held and those handed to it but never taken up (`handedOff` is everything
 * ever sent to it) are counted as dropped (worker_crashed) and as taken up; its gauges go to 0 and the
 * hand-off bytes sent to it count as done. Counters stay: they only ever grow. The identity then holds
 * as before the crash, and the replacement counts on from there. Call it only while no thread writes
 * to the region (after the old one exited, before the new one starts). Returns the spans lost.
 */
export function writeOffWorker(
  shared: SharedMetricsReader,
  region: SharedMetricsWriter,
  worker: number,
  handedOff: { bytes: number; spans: number },
): number {
  const notTakenUp = handedOff.spans - shared.read('spansIngested', undefined, worker);
  const lost = spansHeldByWorkers(shared, worker) + notTakenUp;
  region.add('spansIngested', notTakenUp);
  region.add('spansDropped', lost, 'worker_crashed');
  region.set('handoffBytesDone', handedOff.bytes);
  for (const [name, spec] of Object.entries(SHARED_METRICS) as [SharedMetricName, SharedMetricSpec][]) {
    if (spec.type === 'gauge') region.set(name, 0);
  }
  return lost;
}
