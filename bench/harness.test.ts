import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { beaconToSpans } from '../src/enrich/beacon-to-spans.ts';
import { edgeResources } from '../src/enrich/edge-resource.ts';
import { OtlpEncoder } from '../src/export/otlp-encoder.ts';
import type { Beacon } from '../src/model/beacon.ts';
import { validateBeacon } from '../src/receive/beacon/validate-beacon.ts';
import { BeaconFactory, traceKindOf } from './beacons.ts';
import { goals } from './goals.ts';
import { summarize } from './load/latency.ts';
import { parseResponse } from './load/paced.ts';
import { cpuSecondsOfStat, peakRssOfStatus } from './proc-stats.ts';
import { readmeSummary, updateReadme } from './readme-summary.ts';
import { readAccounting } from './relay-accounting.ts';
import { derive, type RunReport } from './report.ts';
import { samplerBench } from './sampler-bench.ts';
import type { ScenarioResult } from './scenario.ts';
import { countOtlpSpans } from './span-count.ts';
import { beaconCpu, projectedRate } from './thread-report.ts';

// The bench's numbers are never asserted; its pure parts are, so that the harness cannot rot.

const resourceOf = edgeResources({ pops: [], default_service_name: 'edgeworker', pop_cache_size: 8 });

describe('bench beacons', () => {
  it('are valid, with fresh ids that keep parent links, and the intended mix', () => {
    const factory = new BeaconFactory();
    const beacons = Array.from({ length: 100 }, () => JSON.parse(factory.next().toString()) as Beacon);
    for (const b of beacons) expect(validateBeacon(b)).toBeUndefined();
    expect(new Set(beacons.map((b) => b.traceId)).size).toBe(100);
    const [first] = beacons as [Beacon];
    expect(first.spans.slice(1).every((s) => s.parent === first.spans[0]?.id)).toBe(true);
    const errors = beacons.filter((b) => b.spans.some((s) => s.status === 'error')).length;
    expect(errors).toBe(
      Array.from({ length: 100 }, (_, i) => traceKindOf(i)).filter((k) => k === 'error').length,
    );
    expect(factory.spansPerBeacon).toBe(first.spans.length);
  });
});

describe('sampler micro-bench', () => {
  // Errors (2%), slow (2%) and 10% of the rest: 13.6% of traces. At least ten rounds of 1,024 fresh
  // trace ids are timed, so the share is off by more than 4 points with a probability below 1e-40.
  it('decides every trace it holds with the realistic policies, keeping their share of spans', () => {
    const { rates, keptShare } = samplerBench(new BeaconFactory(), 0.05);
    expect(rates).toHaveLength(2);
    expect(keptShare).toBeGreaterThan(0.096);
    expect(keptShare).toBeLessThan(0.176);
  });
});

describe('sink span count', () => {
  it('counts every span of an OTLP request across resources without decoding them', () => {
    const factory = new BeaconFactory();
    const records = [0, 1, 2].flatMap((i) => {
      const beacon = JSON.parse(factory.next().toString()) as Beacon;
      return beaconToSpans(beacon, resourceOf(beacon, `10.0.0.${i}`));
    });
    const body = new OtlpEncoder().encode(records);
    expect(countOtlpSpans(body)).toBe(records.length);
    expect(() => countOtlpSpans(body.subarray(0, body.length - 3))).toThrow();
  });
});

const result = (over: Partial<ScenarioResult>): ScenarioResult => ({
  contender: 'relay',
  label: 'edge-relay, keep all',
  scenario: 'saturation',
  threads: 1,
  spansPerBeacon: 6,
  load: {
    seconds: 10,
    acked: 1000,
    refused: 0,
    errors: 0,
    latency: { p50: 0.5, p99: 1.5, p999: 3, max: 4, samples: 1000 },
    generatorCpuSeconds: 1,
  },
  accepted: 6000,
  cpuSeconds: 0.6,
  threadCpu: { main: 0.4, receivers: 0, workers: 0.1, other: 0.1 },
  peakRss: 1,
  peakRssSinceStart: false,
  drain: { seconds: 1, quiet: true },
  ...over,
});

describe('report', () => {
  it('derives loss and separates counted drops from unaccounted loss', () => {
    const d = derive(
      result({
        sink: { spans: 5000, bytes: 50_000, requests: 2, refused: 0 },
        relay: {
          accepted: 6000,
          exported: 5000,
          sampledOut: 600,
          dropped: { queue_full: 300 },
          inFlight: 50,
        },
      }),
    );
    expect(d).toMatchObject({
      beaconsPerSecond: 100,
      spansPerSecond: 600,
      lost: 400,
      unaccounted: 50,
      bytesPerSpan: 10,
    });
    expect(d.cpuPerMillionSpans).toBeCloseTo(100);
  });

  it('says by how much a goal is missed, and which contender a ratio lacks', () => {
    const lines = goals(
      [
        result({ contender: 'ceiling', load: { ...result({}).load, acked: 2000 } }),
        result({ sink: { spans: 6000, bytes: 1, requests: 1, refused: 0 } }),
        result({
          contender: 'ceiling',
          scenario: 'steady',
          rate: 50,
          load: { ...result({}).load, latency: { ...result({}).load.latency, p99: 0.5 } },
        }),
        result({
          scenario: 'steady',
          rate: 50,
          load: { ...result({}).load, latency: { ...result({}).load.latency, p99: 2.5 } },
        }),
      ],
      [{ label: 'OpenTelemetry SDK relay', reason: 'did not start: boom' }],
    ).join('\n');
    expect(lines).toContain(
      'keep-all throughput vs ceiling (bare fastify): 0.50× (goal ≥ 0.8×): short by 0.30',
    );
    expect(lines).toContain("ceiling's p99: 5.00× (goal ≤ 3×): over by 2.00");
    expect(lines).toContain('not measured (OpenTelemetry SDK relay did not start: boom)');
  });

  it('projects a ceiling per core count from CPU per beacon by thread role', () => {
    const cpu = { receive: 100, supervise: 0, workers: 25, other: 0, whole: 125 };
    // One core: all of it at 125 µs per beacon. Receiving dominates: on two cores the one receiver
    // thread is the bound (1 / 100 µs), on eight the four.
    expect(projectedRate(cpu, 1)).toBeCloseTo(8000);
    expect(projectedRate(cpu, 2)).toBeCloseTo(10000);
    expect(projectedRate(cpu, 8)).toBeCloseTo(40000);
    const r = result({ threadCpu: { main: 0.1, receivers: 0.4, workers: 0.1, other: 0 }, cpuSeconds: 0.6 });
    expect(beaconCpu(r)).toMatchObject({ receive: 400, supervise: 100, workers: 100, whole: 600 });
  });

  it('puts the cost of the write-ahead log as ratios against keep-all in the same run', () => {
    const lines = goals([
      result({ contender: 'relay', load: { ...result({}).load, acked: 2000 } }),
      result({
        contender: 'relay-wal',
        load: { ...result({}).load, latency: { ...result({}).load.latency, p99: 6 } },
      }),
    ]);
    expect(lines.join('\n')).toContain(
      'write-ahead log (receiver.durability: wal) against keep-all without it: 0.50× the beacons/s, 1.00× the spans per CPU second; ack p99 at saturation 6.00 ms against 1.50 ms (4.00×)',
    );
  });

  it('rewrites only the summary block of the README', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bench-readme-')), 'README.md');
    writeFileSync(file, '# x\n<!-- bench:summary:start -->\nold\n<!-- bench:summary:end -->\nafter\n');
    const run: RunReport = {
      date: '2026-01-01',
      quick: true,
      machine: { nproc: 2, cpuModel: 'cpu', node: 'v24', kernel: '6' },
      relayCommand: 'node src/cli.ts',
      pinning: '',
      connections: 1,
      steadyRate: 50,
      steadyRateFrom: 'edge-relay, keep all',
      encode: [],
      results: [result({})],
      skipped: [],
      chartFile: 'x.svg',
    };
    updateReadme(file, readmeSummary(run, 'bench/results/x.md'));
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('old');
    expect(text).toMatch(
      /^# x\n<!-- bench:summary:start -->\nLatest run: .*x\.md.*\n[\s\S]*<!-- bench:summary:end -->\nafter\n$/,
    );
    expect(text).toContain('| edge-relay, keep all | 600 ');
  });

  it('reads the relay accounting from /metrics text', () => {
    const text = [
      'edge_relay_spans_received_total{result="accepted",protocol="beacon"} 60',
      'edge_relay_spans_received_total{result="rejected",protocol="beacon"} 6',
      'edge_relay_spans_exported_total 40',
      'edge_relay_spans_dropped_total{reason="queue_full"} 2',
      'edge_relay_spans_dropped_total{reason="some_new_reason"} 1',
      'edge_relay_spans_in_flight 18',
    ].join('\n');
    expect(readAccounting(text)).toMatchObject({
      accepted: 60,
      exported: 40,
      inFlight: 18,
      dropped: { queue_full: 2 },
    });
  });
});

describe('measurement helpers', () => {
  it('takes nearest-rank percentiles', () => {
    const s = summarize(Float64Array.from({ length: 1000 }, (_, i) => 1000 - i));
    expect([s.p50, s.p99, s.p999, s.max]).toEqual([500, 990, 999, 1000]);
  });

  it('parses /proc CPU time and peak RSS, and HTTP responses by content-length', () => {
    expect(cpuSecondsOfStat('42 (node (x)) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0')).toBe(3);
    expect(peakRssOfStatus('Name:\tnode\nVmHWM:\t  2048 kB\n')).toBe(2 * 1024 * 1024);
    const head = 'HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n';
    expect(parseResponse(Buffer.from(`${head}o`))).toBeUndefined();
    expect(parseResponse(Buffer.from(`${head}okHTTP`))).toEqual({ status: 202, length: head.length + 2 });
  });
});
