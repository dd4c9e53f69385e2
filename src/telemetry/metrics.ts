import { Counter, collectDefaultMetrics, Gauge, type Histogram, Registry } from 'prom-client';
import { tally } from './accounting.ts';
import { histogramValues, registerCollected } from './collected-metric.ts';
import type { ReceiverMetricsReader } from './receiver-metrics.ts';
import { SHARED_METRICS, type SharedMetricSpec, type SharedMetricsReader } from './shared-metrics.ts';

/**
 * Every metric the relay exposes on /metrics: its own under edge_relay_, process and runtime ones under
 * their standard names. The receiver threads' and the workers' counts are read from shared memory at
 * each scrape; process and runtime metrics are the supervisor's (the main thread's heap, event loop).
 */
export class RelayMetrics {
  readonly registry = new Registry();
  readonly receivers: ReceiverMetricsReader;
  readonly workerRestarts: Counter;
  /**
   * Exposition text of metric families written outside the registry (version health's series), appended
   * to /metrics in the format asked for.
   */
  readonly expositions: ((openMetrics: boolean) => string)[] = [];

  constructor(shared: SharedMetricsReader, receivers: ReceiverMetricsReader) {
    this.receivers = receivers;
    const registers = [this.registry];
    // Standard names (process_*, nodejs_*), which stock dashboards and alerts look for.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    // prom-client adds a GC kind's series at its first collection on this thread, so a scrape before
    // one found no nodejs_gc_duration_seconds at all and a dashboard's rate() of it showed nothing:
    // every kind starts at zero instead.
    const gc = this.registry.getSingleMetric('nodejs_gc_duration_seconds') as Histogram | undefined;
    for (const kind of ['major', 'minor', 'incremental', 'weakcb']) gc?.zero({ kind });
    receivers.register(this.registry);
    this.workerRestarts = new Counter({
      name: 'edge_relay_worker_restarts_total',
      help: 'Worker shards restarted after their thread died (what they held is dropped, reason worker_crashed)',
      registers,
    });
    new Gauge({
      name: 'edge_relay_spans_in_flight',
      help: 'Spans accepted (or recovered from storage) and not yet exported, sampled out or dropped: in the hand-off to workers, awaiting a sampling decision, batching or queued for export',
      registers,
      collect() {
        this.set(tally(shared, receivers.spansAccepted()).in_flight);
      },
    });
    for (const name of Object.keys(SHARED_METRICS) as (keyof typeof SHARED_METRICS)[]) {
      this.#registerShared(shared, name, SHARED_METRICS[name]);
    }
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
