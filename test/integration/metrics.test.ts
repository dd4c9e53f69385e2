import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beaconWithTrace, SPANS_PER_BEACON } from '../support/beacons.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { waitFor } from '../support/wait-for.ts';

// What stock Node.js dashboards and alerts query (the panels of Grafana's usual Node.js application
// dashboards: CPU, memory, heap, event loop, handles, GC): each must find a series on /metrics.
const STOCK_NODEJS_QUERIES = [
  'rate(process_cpu_user_seconds_total[1m])',
  'rate(process_cpu_system_seconds_total[1m])',
  'rate(process_cpu_seconds_total[1m])',
  'process_resident_memory_bytes',
  'process_virtual_memory_bytes',
  'process_heap_bytes',
  'process_open_fds / process_max_fds',
  'time() - process_start_time_seconds',
  'nodejs_heap_size_used_bytes / nodejs_heap_size_total_bytes',
  'nodejs_external_memory_bytes',
  'nodejs_heap_space_size_used_bytes',
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'rate(nodejs_gc_duration_seconds_sum[1m])',
  'nodejs_version_info',
];

/** Metric names a PromQL expression reads (identifiers that are not functions or range units). */
const metricNames = (expr: string): string[] =>
  [...expr.matchAll(/\b([a-z_][a-z0-9_]*)\b(?!\s*\()/g)]
    .map((m) => m[1] as string)
    .filter((name) => name.includes('_'));

describe('/metrics', () => {
  let sink: OtlpSink;
  let relay: RelayProcess;
  let text: string;

  beforeAll(async () => {
    sink = await OtlpSink.start();
    relay = await RelayProcess.start({
      workers: { threads: 2 },
      exporter: { traces_endpoint: `${sink.url}/v1/traces` },
      batch: { timeout: '10ms' },
    });
    for (let i = 0; i < 3; i++) {
      expect((await relay.post('/v1/beacons', JSON.stringify(beaconWithTrace()))).status).toBe(202);
    }
    await waitFor(() => sink.spans().length === 3 * SPANS_PER_BEACON, 'the sink to receive every span');
    text = await (await fetch(`http://127.0.0.1:${relay.adminPort}/metrics`)).text();
  });
  afterAll(async () => {
    await relay?.stop();
    await sink?.close();
  });

  const has = (name: string): boolean =>
    text.split('\n').some((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`));

  it.each(STOCK_NODEJS_QUERIES)('serves what a stock Node.js dashboard queries: %s', (query) => {
    const names = metricNames(query);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(has(name), name).toBe(true);
  });

  it('keeps its own names under edge_relay_ and the standard ones unprefixed', () => {
    expect(text).not.toMatch(/^edge_relay_(process|nodejs)_/m);
    const names = new Set(text.match(/^[a-z_:][a-z0-9_:]*/gm));
    for (const name of names) expect(name, name).toMatch(/^(edge_relay_|process_|nodejs_)/);
  });

  it('says which build runs', () => {
    const line = text.split('\n').find((l) => l.startsWith('edge_relay_build_info{')) ?? '';
    expect(line).toMatch(/version="\d+\.\d+\.\d+"/);
    expect(line).toContain(`node_version="${process.version.split('.')[0]}`);
    expect(line).toMatch(/commit="[^"]+"/);
    expect(line.endsWith(' 1')).toBe(true);
  });

  it('counts batches by trigger and size, new traces, and the queue capacity', async () => {
    expect(await relay.metric('edge_relay_batch_sends_total')).toBeGreaterThan(0);
    expect(await relay.metric('edge_relay_batch_sends_total', { trigger: 'timeout' })).toBeGreaterThan(0);
    expect(await relay.metric('edge_relay_batch_send_size_sum')).toBe(3 * SPANS_PER_BEACON);
    expect(await relay.metric('edge_relay_batch_send_size_bucket', { le: '+Inf' })).toBe(
      await relay.metric('edge_relay_batch_send_size_count'),
    );
    // Two shards, each holding queue_size (1000) waiting batches and num_consumers (10) being sent.
    expect(await relay.metric('edge_relay_sending_queue_capacity_batches')).toBe(2 * 1010);
  });
});
