import {
  allocateSharedMetrics,
  SharedMetricsReader,
  SharedMetricsWriter,
} from '../../src/telemetry/shared-metrics.ts';

/** The shared metrics of `workers` worker threads, as the main thread reads them and each worker writes. */
export function sharedMetrics(workers: number): {
  reader: SharedMetricsReader;
  writers: SharedMetricsWriter[];
} {
  const buffer = allocateSharedMetrics(workers);
  return {
    reader: new SharedMetricsReader(buffer),
    writers: Array.from({ length: workers }, (_, worker) => new SharedMetricsWriter(buffer, worker)),
  };
}
