import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RejectReason } from '../lib/errors.ts';
import { spansAccepted, tally } from './accounting.ts';
import { histogramValues, registerCollected } from './collected-metric.ts';
import { SHARED_METRICS, type SharedMetricSpec, type SharedMetricsReader } from './shared-metrics.ts';

/** Every metric the relay exposes on /metrics: its own under edge_relay_, process and runtime ones under their standard names. */
export class RelayMetrics {
  readonly registry = new Registry();
  readonly beaconsReceived: Counter<'result'>;
  readonly spansReceived: Counter<'result' | 'protocol'>;
  readonly requestsRejected: Counter<'reason'>;
  readonly ackLatency: Histogram<'route'>;
  readonly workerRestarts: Counter;
  /**
   * Exposition text of metric families written outside the registry (version health's series), appended
   * to /metrics in the format asked for.
   */
  readonly expositions: ((openMetrics: boolean) => string)[] = [];

  constructor(shared: SharedMetricsReader) {
    const registers = [this.registry];
    // Standard names (process_*, nodejs_*), which stock dashboards and alerts look for.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    this.beaconsReceived = new Counter({
      name: 'edge_relay_beacons_received_total',
      help: 'Beacons received, by result',
      labelNames: ['result'],
      registers,
    });
    this.spansReceived = new Counter({
      name: 'edge_relay_spans_received_total',
      help: 'Spans received, by protocol and result (accepted spans are acknowledged to the client)',
      labelNames: ['result', 'protocol'],
      registers,
    });
    this.requestsRejected = new Counter({
      name: 'edge_relay_requests_rejected_total',
      help: 'Ingest requests refused, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.ackLatency = new Histogram({
      name: 'edge_relay_ack_latency_seconds',
      help: 'Time from request start to acknowledgement, by route',
      labelNames: ['route'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.1],
      registers,
    });
    this.workerRestarts = new Counter({
      name: 'edge_relay_worker_restarts_total',
      help: 'Worker shards restarted after their thread died (what they held is dropped, reason worker_crashed)',
      registers,
    });
    const spansReceived = this.spansReceived;
    new Gauge({
      name: 'edge_relay_spans_in_flight',
      help: 'Spans accepted (or recovered from storage) and not yet exported, sampled out or dropped: in the hand-off to workers, awaiting a sampling decision, batching or queued for export',
      registers,
      async collect() {
        this.set(tally(shared, await spansAccepted(spansReceived)).in_flight);
      },
    });
    for (const name of Object.keys(SHARED_METRICS) as (keyof typeof SHARED_METRICS)[]) {
      this.#registerShared(shared, name, SHARED_METRICS[name]);
    }
  }

  rejected(reason: RejectReason): void {
    this.requestsRejected.inc({ reason });
  }

  /** Exposes a worker-side metric: at each scrape its value is summed from shared memory. */
  #registerShared(
    shared: SharedMetricsReader,
    key: keyof typeof SHARED_METRICS,
    spec: SharedMetricSpec,
  ): void {
    if (spec.buckets) {
      const buckets = spec.buckets;
      registerCollected(this.registry, spec, () => {
        const { counts, sum } = shared.readHistogram(
          key as Parameters<SharedMetricsReader['readHistogram']>[0],
        );
        return histogramValues(spec.name, buckets, counts, sum);
      });
      return;
    }
    const values = spec.values ?? [undefined];
    registerCollected(this.registry, spec, () =>
      values.map((value) => ({
        labels: spec.label && value !== undefined ? { [spec.label]: value } : {},
        value: spec.across === 'max' ? shared.max(key) : shared.read(key, value),
      })),
    );
  }
}
