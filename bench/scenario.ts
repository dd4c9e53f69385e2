import { setTimeout as sleep } from 'node:timers/promises';
import type { BeaconFactory } from './beacons.ts';
import type { Contender, ContenderId, Target } from './contenders.ts';
import type { LoadResult } from './load/load-result.ts';
import { paced } from './load/paced.ts';
import { saturate } from './load/saturate.ts';
import type { ThreadCpu } from './proc-stats.ts';
import { accountingDelta, type RelayAccounting, readAccounting, withoutOutcome } from './relay-accounting.ts';
import type { SinkClient } from './sink-client.ts';

export type ScenarioName = 'saturation' | 'steady' | 'slow backend' | 'backend down';

export interface ScenarioSpec {
  name: ScenarioName;
  seconds: number;
  /** Beacons per second for the open-loop scenarios; saturation is closed-loop. */
  rate?: number;
  connections: number;
  /** Longest wait for the contender to finish delivering after the load stops. */
  drainSeconds: number;
}

export interface ScenarioResult {
  contender: ContenderId;
  label: string;
  scenario: ScenarioName;
  threads: number;
  rate?: number;
  spansPerBeacon: number;
  load: LoadResult;
  /** Spans the server acknowledged during the scenario (its own count: it includes beacons whose 202 was
   * still on the wire when the load generator stopped). */
  accepted: number;
  /** What the sink received during the scenario and its drain (absent for the ceiling). */
  sink?: { spans: number; bytes: number; requests: number; refused: number };
  /** CPU seconds of the server process over load and drain. */
  cpuSeconds: number;
  /** The same, by thread role (threads that ended during the scenario are missing here). */
  threadCpu: ThreadCpu;
  /** Peak RSS in bytes during the scenario (or since start, where the kernel cannot reset it). */
  peakRss: number;
  peakRssSinceStart: boolean;
  relay?: RelayAccounting;
  drain: { seconds: number; quiet: boolean };
}

const QUIET_MS = 300;

/**
 * Waits until every span the relay accepted has an outcome (exported, dropped or sampled out) and the
 * sink has seen no request for a while, bounded: a span that never gets an outcome shows as "gave up".
 */
async function drain(
  target: Target,
  sink: SinkClient,
  seconds: number,
): Promise<{ seconds: number; quiet: boolean }> {
  const start = Date.now();
  const deadline = start + seconds * 1000;
  await target.flush?.(AbortSignal.timeout(seconds * 1000)).catch(() => {});
  while (Date.now() < deadline) {
    const stats = await sink.stats();
    const holding = target.scrape ? withoutOutcome(readAccounting(await target.scrape())) : 0;
    if (holding <= 0 && Date.now() - Math.max(stats.lastRequestAt, start) >= QUIET_MS) {
      return { seconds: (Date.now() - start) / 1000, quiet: true };
    }
    await sleep(100);
  }
  return { seconds: (Date.now() - start) / 1000, quiet: false };
}

/** Runs one scenario against a started contender and measures it from every side. */
export async function runScenario(
  contender: Contender,
  target: Target,
  threads: number,
  sink: SinkClient,
  beacons: BeaconFactory,
  spec: ScenarioSpec,
): Promise<ScenarioResult> {
  await sink.setMode(spec.name === 'slow backend' ? 'slow' : 'ok');
  const sinkBefore = await sink.stats();
  const relayBefore = target.scrape ? readAccounting(await target.scrape()) : undefined;
  const acceptedBefore = await target.acceptedSpans();
  const peakReset = target.process.resetPeakRss();
  const cpuBefore = target.process.cpuSeconds();
  const threadsBefore = target.process.threadCpuSeconds();

  const outage: NodeJS.Timeout[] = [];
  if (spec.name === 'backend down') {
    // Down for the middle third of the run.
    outage.push(setTimeout(() => void sink.setMode('down'), (spec.seconds * 1000) / 3));
    outage.push(setTimeout(() => void sink.setMode('ok'), (spec.seconds * 2000) / 3));
  }
  const load =
    spec.rate === undefined
      ? await saturate(`http://127.0.0.1:${target.port}`, beacons, {
          seconds: spec.seconds,
          connections: spec.connections,
        })
      : await paced(target.port, beacons, { rate: spec.rate, seconds: spec.seconds });
  for (const timer of outage) clearTimeout(timer);
  if (spec.name === 'backend down') await sink.setMode('ok');

  const drained = contender.delivers
    ? await drain(target, sink, spec.drainSeconds)
    : { seconds: 0, quiet: true };
  const cpuSeconds = target.process.cpuSeconds() - cpuBefore;
  const threadsAfter = target.process.threadCpuSeconds();
  const peakRss = target.process.peakRss();
  const sinkAfter = await sink.stats();
  const accepted = (await target.acceptedSpans()) - acceptedBefore;
  await sink.setMode('ok');
  const relayAfter = target.scrape ? readAccounting(await target.scrape()) : undefined;
  return {
    contender: contender.id,
    label: contender.label,
    scenario: spec.name,
    threads,
    ...(spec.rate === undefined ? {} : { rate: spec.rate }),
    spansPerBeacon: beacons.spansPerBeacon,
    load,
    accepted,
    ...(contender.delivers
      ? {
          sink: {
            spans: sinkAfter.spans - sinkBefore.spans,
            bytes: sinkAfter.bytes - sinkBefore.bytes,
            requests: sinkAfter.requests - sinkBefore.requests,
            refused: sinkAfter.refused - sinkBefore.refused,
          },
        }
      : {}),
    cpuSeconds,
    threadCpu: {
      main: threadsAfter.main - threadsBefore.main,
      receivers: threadsAfter.receivers - threadsBefore.receivers,
      workers: threadsAfter.workers - threadsBefore.workers,
      other: threadsAfter.other - threadsBefore.other,
    },
    peakRss,
    peakRssSinceStart: !peakReset,
    ...(relayAfter && relayBefore ? { relay: accountingDelta(relayAfter, relayBefore) } : {}),
    drain: drained,
  };
}
