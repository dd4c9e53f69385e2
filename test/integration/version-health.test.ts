import { Agent, request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts, membersSettled, sumMetric } from '../support/cluster.ts';
import { type OpenMetricsSample, scrapeOpenMetrics } from '../support/openmetrics.ts';
import { OtlpMetricsSink } from '../support/otlp-metrics-sink.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { waitFor } from '../support/wait-for.ts';
import { decided, postAll, toSink, traceIdWith } from './tail-sampling-traffic.ts';

const relays: RelayProcess[] = [];
const sinks: (OtlpSink | OtlpMetricsSink)[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.stop();
  for (const sink of sinks.splice(0)) await sink.close();
});

const BUCKETS_MS = [5, 50, 500, 5000];
const LE = [...BUCKETS_MS.map((ms) => String(ms / 1000)), '+Inf'];
const VERSIONS = ['1.4.2', '1.5.0'];
const POPS = ['FRA', 'AMS'];
const SERVER_DURATIONS = [3, 30, 300, 3000, 7000];

interface Sent {
  traceId: string;
  version: string;
  pop: string;
  serverMs: number;
  originMs: number;
  /** Server span status ERROR, or an HTTP 5xx answer: both count as errors. */
  error: 'status' | 'http' | undefined;
}

/** A beacon of one EdgeWorker request: the server span, its origin sub-request and an internal span. */
function beaconOf(sent: Sent, traceState?: string): string {
  const prefix = sent.traceId.slice(4, 16);
  return JSON.stringify({
    v: 1,
    traceId: sent.traceId,
    ...(traceState ? { traceState } : {}),
    ts: 1764070000000,
    worker: { id: '42817', version: sent.version },
    edge: { ip: '203.0.113.7', pop: sent.pop },
    spans: [
      {
        id: `${prefix}0001`,
        name: 'GET /product/:id',
        kind: 'server',
        start: 0,
        dur: sent.serverMs,
        ...(sent.error === 'status' ? { status: 'error' } : {}),
        attrs: { 'http.response.status_code': sent.error === 'http' ? 503 : 200 },
      },
      {
        id: `${prefix}0002`,
        parent: `${prefix}0001`,
        name: 'origin GET',
        kind: 'client',
        start: 0.5,
        dur: sent.originMs,
      },
      { id: `${prefix}0003`, parent: `${prefix}0001`, name: 'onClientRequest', start: 0.1, dur: 0.2 },
    ],
  });
}

function traffic(count: number): Sent[] {
  return Array.from({ length: count }, (_, i) => ({
    // Randomness spread evenly over [0, 2^56): a 10% probabilistic policy keeps exactly the last tenth.
    traceId: traceIdWith(i, ((BigInt(i) * 7919n) % BigInt(count)) * ((1n << 56n) / BigInt(count))),
    version: VERSIONS[i % 2] as string,
    pop: POPS[Math.floor(i / 2) % 2] as string,
    serverMs: SERVER_DURATIONS[i % SERVER_DURATIONS.length] as number,
    originMs: 2 + (i % 3) * 40,
    error: i % 7 === 0 ? 'status' : i % 11 === 0 ? 'http' : undefined,
  }));
}

/** What the relay must report per series: requests, errors and bucket counts (not cumulative). */
function expected(sent: Sent[]) {
  const series = new Map<string, { requests: number; errors: number; buckets: number[] }>();
  const add = (key: string, ms: number, error: boolean) => {
    let s = series.get(key);
    if (!s) {
      s = { requests: 0, errors: 0, buckets: LE.map(() => 0) };
      series.set(key, s);
    }
    s.requests++;
    if (error) s.errors++;
    const bucket = BUCKETS_MS.findIndex((le) => ms <= le);
    const index = bucket < 0 ? BUCKETS_MS.length : bucket;
    s.buckets[index] = (s.buckets[index] as number) + 1;
  };
  for (const t of sent) {
    add(`${t.version}|${t.pop}|GET /product/:id|SPAN_KIND_SERVER`, t.serverMs, t.error !== undefined);
    add(`${t.version}|${t.pop}|origin GET|SPAN_KIND_CLIENT`, t.originMs, false);
  }
  return series;
}

const keyOf = (labels: Record<string, string>) =>
  `${labels.akamai_edgeworker_version}|${labels.akamai_edge_pop}|${labels.span_name}|${labels.span_kind}`;

/** The relay's version-health series as scraped: same shape as expected(). */
function reported(samples: OpenMetricsSample[]) {
  const series = new Map<string, { requests: number; errors: number; buckets: number[] }>();
  const of = (labels: Record<string, string>) => {
    const key = keyOf(labels);
    let s = series.get(key);
    if (!s) {
      s = { requests: 0, errors: 0, buckets: LE.map(() => 0) };
      series.set(key, s);
    }
    return s;
  };
  const cumulative = new Map<string, number[]>();
  for (const sample of samples) {
    if (sample.name === 'edge_relay_edge_requests_total') of(sample.labels).requests = sample.value;
    if (sample.name === 'edge_relay_edge_errors_total') of(sample.labels).errors = sample.value;
    if (sample.name === 'edge_relay_edge_request_duration_seconds_bucket') {
      const key = keyOf(sample.labels);
      const list = cumulative.get(key) ?? [];
      list[LE.indexOf(sample.labels.le as string)] = sample.value;
      cumulative.set(key, list);
      of(sample.labels);
    }
  }
  for (const [key, list] of cumulative) {
    (series.get(key) as { buckets: number[] }).buckets = list.map(
      (v, i) => v - (i > 0 ? (list[i - 1] as number) : 0),
    );
  }
  return series;
}

/** Posts many small beacons over a few kept-alive connections: fetch's per-request cost would dominate. */
async function postFast(relay: RelayProcess, beacons: string[], connections = 32): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  let next = 0;
  const lane = async () => {
    while (next < beacons.length) {
      const body = beacons[next++] as string;
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: relay.receiverPort,
            path: '/v1/beacons',
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      if (status !== 202) throw new Error(`beacon refused: ${status}`);
    }
  };
  await Promise.all(Array.from({ length: connections }, lane));
  agent.destroy();
}

const versionHealth = { histogram: { explicit: { buckets: BUCKETS_MS.map((ms) => `${ms}ms`) } } };

/** A relay pushing version health to a metrics sink every 200 ms, after 100 beacons of traffic(). */
async function pushingRelay(
  versionHealthSection: Record<string, unknown>,
  prepare: (sink: OtlpMetricsSink) => void = () => {},
) {
  const metricsSink = await OtlpMetricsSink.start();
  sinks.push(metricsSink);
  prepare(metricsSink);
  const relay = await RelayProcess.start({
    workers: { threads: 2 },
    exporter: {
      traces_endpoint: '',
      metrics_endpoint: metricsSink.url,
      headers: { 'x-test-token': 'secret' },
    },
    debug: { verbosity: 'basic' },
    version_health: { ...versionHealthSection, metrics_flush_interval: '200ms' },
  });
  relays.push(relay);
  const sent = traffic(100);
  await postAll(
    relay,
    sent.map((t) => beaconOf(t)),
  );
  return { metricsSink, relay, sent };
}

describe('version health', () => {
  it('counts every span before sampling, exactly, with exemplars only of kept traces', async () => {
    const sink = await OtlpSink.start();
    sinks.push(sink);
    const relay = await RelayProcess.start({
      ...toSink(sink.url),
      version_health: versionHealth,
      tail_sampling: {
        decision_wait: '2s',
        decision_wait_after_root_received: '100ms',
        policies: [{ name: 'tenth', type: 'probabilistic', probabilistic: { sampling_percentage: 10 } }],
      },
    });
    relays.push(relay);
    const sent = traffic(400);
    await postAll(
      relay,
      sent.map((t) => beaconOf(t)),
    );
    await decided(relay, sent.length);
    const want = expected(sent);
    const samples = await waitFor(async () => {
      const scraped = await scrapeOpenMetrics(relay.adminPort);
      const got = reported(scraped);
      const complete = [...want].every(([key, s]) => got.get(key)?.requests === s.requests);
      const exemplars = scraped.some((sample) => sample.exemplar);
      return complete && exemplars && scraped;
    }, 'every span counted and an exemplar published');

    expect(Object.fromEntries(reported(samples))).toEqual(Object.fromEntries(want));
    // The sink received only the tenth the policy kept, yet every span was counted.
    const sampled = await relay.metric('edge_relay_sampling_traces_decided_total', { decision: 'sampled' });
    expect(sampled).toBeLessThanOrEqual(sent.length / 10);
    await waitFor(() => sink.spans().length === 3 * sampled, 'the kept traces at the sink');
    const kept = new Set(sink.spans().map((s) => s.traceId));
    const exemplars = samples.filter((s) => s.exemplar).map((s) => s);
    expect(exemplars.length).toBeGreaterThan(0);
    for (const sample of exemplars) {
      expect(kept.has(sample.exemplar?.labels.trace_id as string)).toBe(true);
      // An exemplar sits in the bucket its value belongs to.
      if (sample.name.endsWith('_bucket') && sample.labels.le !== '+Inf') {
        expect(sample.exemplar?.value).toBeLessThanOrEqual(Number(sample.labels.le));
      }
    }
    // Prometheus text (no exemplars) carries the same numbers.
    const text = await (await fetch(`http://127.0.0.1:${relay.adminPort}/metrics`)).text();
    expect(text).not.toContain('trace_id=');
    expect(await relay.metric('edge_relay_edge_requests_total', { akamai_edgeworker_version: '1.5.0' })).toBe(
      400,
    );
  });

  it('puts beacons inventing 100,000 versions in the overflow series, within the limit, counting every span', async () => {
    const limit = 20;
    const relay = await RelayProcess.start({
      workers: { threads: 2 },
      exporter: { traces_endpoint: '' },
      debug: { verbosity: 'basic' },
      version_health: { aggregation_cardinality_limit: limit },
    });
    relays.push(relay);
    const versions = 100_000;
    const beacons = Array.from({ length: versions }, (_, i) =>
      JSON.stringify({
        v: 1,
        traceId: traceIdWith(i, BigInt(i)),
        ts: 1764070000000,
        worker: { id: '1', version: `v${i}` },
        edge: { ip: '203.0.113.7', pop: 'FRA' },
        spans: [
          { id: `${traceIdWith(i, 0n).slice(0, 12)}0001`, name: 'GET /', kind: 'server', start: 0, dur: 1 },
        ],
      }),
    );
    await postFast(relay, beacons);
    const samples = await waitFor(async () => {
      const scraped = await scrapeOpenMetrics(relay.adminPort);
      const total = scraped
        .filter((s) => s.name === 'edge_relay_edge_requests_total')
        .reduce((sum, s) => sum + s.value, 0);
      return total === versions && scraped;
    }, 'every span counted');
    const requests = samples.filter((s) => s.name === 'edge_relay_edge_requests_total');
    expect(requests.length).toBe(limit);
    const overflow = requests.filter((s) => s.labels.otel_metric_overflow === 'true');
    expect(overflow.length).toBe(1);
    expect(overflow[0]?.value).toBe(versions - (limit - 1));
    // What the tables hold then is measured in red-table.test.ts: the process's resident size here is
    // the pipeline's buffers, bounded by the memory limiter, and says nothing of the tables.
  }, 120_000);

  it.each(['AGGREGATION_TEMPORALITY_DELTA', 'AGGREGATION_TEMPORALITY_CUMULATIVE'])(
    'pushes the same numbers as OTLP metrics (%s), through a failed push',
    async (temporality) => {
      // The first push is refused as retryable: its data must come with a later one.
      const { metricsSink, relay, sent } = await pushingRelay(
        { ...versionHealth, aggregation_temporality: temporality },
        (sink) => sink.statuses.push(503),
      );
      const want = expected(sent);
      const attributeKey = (attributes: { key: string; value: { stringValue?: string } }[]) => {
        const a = Object.fromEntries(attributes.map((kv) => [kv.key, kv.value.stringValue]));
        return `${a['akamai.edgeworker.version']}|${a['akamai.edge.pop']}|${a['span.name']}|${a['span.kind']}`;
      };
      const pushed = () => {
        const series = new Map<string, { requests: number; errors: number; buckets: number[] }>();
        const of = (key: string) => {
          let s = series.get(key);
          if (!s) {
            s = { requests: 0, errors: 0, buckets: LE.map(() => 0) };
            series.set(key, s);
          }
          return s;
        };
        const delta = temporality === 'AGGREGATION_TEMPORALITY_DELTA';
        // Delta points add up; a cumulative point replaces the one before.
        const take = (before: number, value: number) => (delta ? before + value : value);
        for (const { metric } of metricsSink.metrics()) {
          if (metric.name === 'edge_relay.edge.requests' || metric.name === 'edge_relay.edge.errors') {
            expect(metric.sum.aggregationTemporality).toBe(temporality);
            for (const point of metric.sum.dataPoints) {
              const s = of(attributeKey(point.attributes));
              if (metric.name === 'edge_relay.edge.requests') s.requests = take(s.requests, point.asDouble);
              else s.errors = take(s.errors, point.asDouble);
            }
          }
          if (metric.name === 'edge_relay.edge.request.duration') {
            expect(metric.unit).toBe('s');
            for (const point of metric.histogram.dataPoints) {
              expect(point.explicitBounds).toEqual(BUCKETS_MS.map((ms) => ms / 1000));
              const s = of(attributeKey(point.attributes));
              s.buckets = s.buckets.map((n, i) => take(n, point.bucketCounts[i]));
            }
          }
        }
        return series;
      };
      await waitFor(
        () => [...want].every(([key, s]) => pushed().get(key)?.requests === s.requests),
        'every span in the pushed metrics',
      );
      expect(Object.fromEntries(pushed())).toEqual(Object.fromEntries(want));
      expect(Object.fromEntries(reported(await scrapeOpenMetrics(relay.adminPort)))).toEqual(
        Object.fromEntries(want),
      );
      expect(metricsSink.refused).toBe(1);
      const first = metricsSink.requests[0];
      expect(first?.headers['x-test-token']).toBe('secret');
      expect(first?.headers['content-type']).toBe('application/x-protobuf');
      expect(metricsSink.metrics()[0]?.resource['service.name']).toBe('edge-relay');
    },
  );

  it('pushes an exponential histogram when histogram.exponential is set (unit ms), /metrics keeping its buckets', async () => {
    const { metricsSink, relay, sent } = await pushingRelay({
      histogram: { ...versionHealth.histogram, unit: 'ms', exponential: { max_size: 160 } },
    });
    const key = (t: Sent, server: boolean) =>
      `${t.version}|${t.pop}|${server ? 'GET /product/:id|SPAN_KIND_SERVER' : 'origin GET|SPAN_KIND_CLIENT'}`;
    const durations = new Map<string, number[]>();
    for (const t of sent) {
      for (const [server, ms] of [
        [true, t.serverMs],
        [false, t.originMs],
      ] as const) {
        durations.set(key(t, server), [...(durations.get(key(t, server)) ?? []), ms]);
      }
    }
    const latest = () => {
      const points = new Map<string, Record<string, any>>();
      for (const { metric } of metricsSink.metrics()) {
        if (metric.name !== 'edge_relay.edge.request.duration') continue;
        expect(metric.unit).toBe('ms');
        for (const point of metric.exponentialHistogram.dataPoints) {
          const a = Object.fromEntries(point.attributes.map((kv: any) => [kv.key, kv.value.stringValue]));
          points.set(
            `${a['akamai.edgeworker.version']}|${a['akamai.edge.pop']}|${a['span.name']}|${a['span.kind']}`,
            point,
          );
        }
      }
      return points;
    };
    await waitFor(
      () => [...durations].every(([k, list]) => latest().get(k)?.count === list.length),
      'every span in the pushed exponential histograms',
    );
    for (const [k, list] of durations) {
      const point = latest().get(k) as Record<string, any>;
      // The spec's mapping: bucket i at scale s holds (2^(i/2^s), 2^((i+1)/2^s)].
      const want = new Map<number, number>();
      for (const ms of list) {
        const index = Math.ceil(Math.log2(ms) * 2 ** point.scale) - 1;
        want.set(index, (want.get(index) ?? 0) + 1);
      }
      const got = new Map<number, number>();
      point.positive.bucketCounts.forEach((n: number, i: number) => {
        if (n > 0) got.set(point.positive.offset + i, n);
      });
      expect(got).toEqual(want);
      expect(point.positive.bucketCounts.length).toBeLessThanOrEqual(160);
      expect(point.sum).toBeCloseTo(
        list.reduce((a, b) => a + b, 0),
        6,
      );
    }
    // /metrics still has the explicit buckets, in seconds.
    expect(Object.fromEntries(reported(await scrapeOpenMetrics(relay.adminPort)))).toEqual(
      Object.fromEntries(expected(sent)),
    );
  });

  it('counts a span once in a cluster: where it arrived, not again at the owner it is forwarded to', async () => {
    const sink = await OtlpSink.start();
    sinks.push(sink);
    const ports = await freePorts(2);
    const urls = ports.map((port) => `http://127.0.0.1:${port}`);
    const [a, b] = await Promise.all(
      urls.map((self, i) =>
        RelayProcess.start({
          receiver: { endpoint: `127.0.0.1:${ports[i]}` },
          workers: { threads: 1 },
          batch: { timeout: '20ms' },
          exporter: { traces_endpoint: sink.url, compression: 'none' },
          version_health: versionHealth,
          tail_sampling: {
            decision_wait: '1s',
            decision_wait_after_root_received: '100ms',
            policies: [{ name: 'all', type: 'always_sample' }],
          },
          cluster: { self, peers: urls, probe_interval: '150ms', forward: { timeout: '10ms' } },
          // The last replica to stop cannot hand its traces to the first: it need not wait long for it.
          shutdown_timeout: '2s',
        }),
      ),
    );
    relays.push(a as RelayProcess, b as RelayProcess);
    const both = [a, b] as RelayProcess[];
    await membersSettled(both, 2);
    const sent = traffic(60);
    // Every beacon goes to replica a; about half the traces are owned by b and forwarded there.
    await postAll(
      a as RelayProcess,
      sent.map((t) => beaconOf(t)),
    );
    await waitFor(async () => sink.spans().length === 3 * sent.length, 'every span at the sink');
    const forwarded = await (a as RelayProcess).metric('edge_relay_cluster_spans_forwarded_total');
    expect(forwarded).toBeGreaterThan(0);
    const want = expected(sent);
    const samples = await waitFor(async () => {
      const scraped = await scrapeOpenMetrics((a as RelayProcess).adminPort);
      const got = reported(scraped);
      return [...want].every(([key, s]) => got.get(key)?.requests === s.requests) && scraped;
    }, 'every span counted at the replica it arrived at');
    expect(Object.fromEntries(reported(samples))).toEqual(Object.fromEntries(want));
    expect(await sumMetric([b as RelayProcess], 'edge_relay_edge_requests_total')).toBe(0);
    const kept = new Set(sink.spans().map((s) => s.traceId));
    for (const sample of samples.filter((s) => s.exemplar)) {
      expect(kept.has(sample.exemplar?.labels.trace_id as string)).toBe(true);
    }
  });

  it('re-weights beacons the edge sampled: a span with ot=th:c (p = 1/4) stands for 4', async () => {
    const relay = await RelayProcess.start({
      workers: { threads: 2 },
      exporter: { traces_endpoint: '' },
      debug: { verbosity: 'basic' },
      version_health: versionHealth,
    });
    relays.push(relay);
    const sent = traffic(40);
    await postAll(relay, [
      ...sent.slice(0, 20).map((t) => beaconOf(t, 'ot=th:c')),
      ...sent.slice(20).map((t) => beaconOf(t)),
    ]);
    const total = (samples: OpenMetricsSample[]) =>
      samples
        .filter(
          (s) => s.name === 'edge_relay_edge_requests_total' && s.labels.span_kind === 'SPAN_KIND_SERVER',
        )
        .reduce((sum, s) => sum + s.value, 0);
    const samples = await waitFor(async () => {
      const scraped = await scrapeOpenMetrics(relay.adminPort);
      return total(scraped) === 20 * 4 + 20 && scraped;
    }, 'the re-weighted count');
    const count = samples
      .filter(
        (s) =>
          s.name === 'edge_relay_edge_request_duration_seconds_count' &&
          s.labels.span_kind === 'SPAN_KIND_SERVER',
      )
      .reduce((sum, s) => sum + s.value, 0);
    expect(count).toBe(100);
  });
});
