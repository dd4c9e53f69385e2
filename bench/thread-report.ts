import { resolveReceiverThreads } from '../src/worker/config.ts';
import { fmt, runLabel, saturation, table } from './report.ts';
import type { ScenarioResult } from './scenario.ts';

// Where a run's CPU went, by thread role, and what that projects onto machines with more cores.

/** µs of CPU per acknowledged beacon, by the role of the thread that spent it. */
export interface BeaconCpu {
  /** On the thread(s) that acknowledge: the main thread with one receiver, else the receiver threads. */
  receive: number;
  /** The main thread when it only supervises (receiver threads acknowledge). */
  supervise: number;
  workers: number;
  other: number;
  whole: number;
}

export function beaconCpu(r: ScenarioResult): BeaconCpu {
  const per = (seconds: number) => (seconds / r.load.acked) * 1e6;
  const { main, workers, other } = r.threadCpu;
  // Results written before receiver threads existed have no such field.
  const receivers = r.threadCpu.receivers ?? 0;
  return {
    receive: per(receivers > 0 ? receivers : main),
    supervise: per(receivers > 0 ? main : 0),
    workers: per(workers),
    other: per(other),
    whole: per(r.cpuSeconds),
  };
}

export function threadTable(results: ScenarioResult[]): string {
  return table(
    ['contender', 'acking thread(s)', 'supervisor', 'worker threads', 'other threads', 'whole process'],
    results
      .filter((r) => r.scenario === 'saturation')
      .map((r) => {
        const cpu = beaconCpu(r);
        const relay = r.contender.startsWith('relay');
        return [
          runLabel(r),
          fmt(cpu.receive, 1),
          relay && cpu.supervise > 0 ? fmt(cpu.supervise, 1) : '–',
          fmt(cpu.workers, 1),
          fmt(cpu.other, 1),
          fmt(cpu.whole, 1),
        ];
      }),
  );
}

const CORES = [1, 2, 4, 8, 16];

/**
 * Beacons/s a relay with this CPU per beacon could take on `cores` cores with the default thread counts
 * (receiver.threads and workers.threads from the core count): the least of what all cores can do, what
 * the acking threads can do each on a core of their own, and what the shards can.
 */
export function projectedRate(cpu: BeaconCpu, cores: number): number {
  const receivers = resolveReceiverThreads({ threads: 0, durability: 'none' }, cores);
  const perBeacon = cpu.receive + cpu.supervise + cpu.workers + cpu.other;
  const limits = [cores / perBeacon, receivers / cpu.receive, cores / cpu.workers];
  return Math.min(...limits.filter((limit) => Number.isFinite(limit))) * 1e6;
}

export function projectionTable(results: ScenarioResult[]): string | undefined {
  const relayRows = ['relay', 'relay-r2']
    .map((id) => saturation(results, id))
    .filter((r): r is ScenarioResult => r !== undefined);
  const ceilings = ['ceiling', 'ceiling-http']
    .map((id) => saturation(results, id))
    .filter((r): r is ScenarioResult => r !== undefined);
  if (relayRows.length === 0) return undefined;
  const headers = [
    'cores',
    'receiver threads',
    ...relayRows.map((r) => `${r.label}: from its CPU`),
    ...ceilings.map((r) => `${r.label} × cores`),
  ];
  const rows = CORES.map((cores) => [
    String(cores),
    String(resolveReceiverThreads({ threads: 0, durability: 'none' }, cores)),
    ...relayRows.map((r) => fmt(projectedRate(beaconCpu(r), cores))),
    // A bare handler is one thread; on n cores, n of them behind one port (SO_REUSEPORT or processes).
    ...ceilings.map((r) => fmt((cores / beaconCpu(r).whole) * 1e6)),
  ]);
  return table(headers, rows);
}
