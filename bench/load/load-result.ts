import type { LatencySummary } from './latency.ts';

/** What one load run saw from the client side. */
export interface LoadResult {
  seconds: number;
  /** Beacons answered 2xx (acknowledged). */
  acked: number;
  /** Beacons answered with any other status (e.g. 429/503 when the relay sheds load). */
  refused: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** Latency of acknowledged beacons. */
  latency: LatencySummary;
  /** autocannon's own percentiles (whole milliseconds), where autocannon drove the load. */
  autocannonMs?: { p50: number; p99: number; p999: number };
  /** CPU seconds the load generator's process used (it shares its CPUs with the sink). */
  generatorCpuSeconds: number;
}

export function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}
