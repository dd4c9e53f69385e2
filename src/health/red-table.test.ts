import { describe, expect, it } from 'vitest';
import { spanRecord } from '../../test/support/span-fixture.ts';
import { versionHealthConfig } from '../../test/support/version-health.ts';
import { collectGarbage } from '../lib/collect-garbage.ts';
import type { SpanRecord } from '../model/span.ts';
import { MergedHealth } from './merged-health.ts';
import { RedTable } from './red-table.ts';
import { ERRORS, FIRST_BUCKET, REQUESTS, SUM } from './snapshot.ts';

const edge = (version = '1.0', pop = 'FRA') => ({
  'deployment.environment.name': 'prod',
  'akamai.edgeworker.id': '42',
  'akamai.edgeworker.version': version,
  'akamai.edge.pop': pop,
});

function span(
  options: {
    name?: string;
    kind?: 0 | 1 | 2 | 3 | 4 | 5;
    version?: string;
    pop?: string;
    durMs?: number;
    error?: boolean;
    traceId?: string;
    traceState?: string;
    attrs?: Record<string, string | number>;
  } = {},
): SpanRecord {
  const record = spanRecord({
    resource: edge(options.version, options.pop),
    durMs: options.durMs ?? 5,
    status: options.error ? 2 : 0,
    ...(options.traceId ? { traceId: options.traceId } : {}),
    ...(options.traceState ? { traceState: options.traceState } : {}),
    ...(options.attrs ? { attrs: options.attrs } : {}),
  });
  return { ...record, span: { ...record.span, name: options.name ?? 'GET /', kind: options.kind ?? 2 } };
}

/** The merged series of one table, keyed by their label values. */
function merged(table: RedTable, config = versionHealthConfig()) {
  const all = new MergedHealth(config);
  const snapshot = table.snapshot(Date.now());
  if (snapshot) all.apply(0, snapshot);
  return new Map(all.series.map((s) => [s.overflow ? 'overflow' : s.labels.join('|'), s]));
}

const traceOf = (n: number) => n.toString(16).padStart(32, 'a');

describe('RedTable', () => {
  it('counts requests, errors and durations per worker, version, PoP, name and kind', () => {
    const config = versionHealthConfig();
    const table = new RedTable(config);
    table.record(
      [
        span({ durMs: 3 }),
        span({ durMs: 30 }),
        span({ durMs: 3, error: true }),
        span({ durMs: 3, attrs: { 'http.response.status_code': 503 } }),
        span({ kind: 3, name: 'origin GET', attrs: { 'http.response.status_code': 503 } }),
        span({ version: '2.0', pop: 'AMS', durMs: 20_000 }),
        span({ kind: 1, name: 'onClientRequest' }),
      ],
      0,
    );
    const series = merged(table, config);
    expect([...series.keys()].sort()).toEqual([
      '42|1.0|FRA|GET /|SPAN_KIND_SERVER',
      '42|1.0|FRA|origin GET|SPAN_KIND_CLIENT',
      '42|2.0|AMS|GET /|SPAN_KIND_SERVER',
    ]);
    const server = series.get('42|1.0|FRA|GET /|SPAN_KIND_SERVER')?.values as Float64Array;
    expect(server[REQUESTS]).toBe(4);
    expect(server[ERRORS]).toBe(2);
    expect(server[SUM]).toBeCloseTo(0.039, 9);
    // Default buckets: 2ms, 4ms, 6ms, 8ms, 10ms, 50ms, ...; 3 ms in the second, 30 ms in the sixth.
    expect(server[FIRST_BUCKET + 1]).toBe(3);
    expect(server[FIRST_BUCKET + 5]).toBe(1);
    // A client span's 5xx is the origin's answer, not a failed request of the EdgeWorker.
    expect(series.get('42|1.0|FRA|origin GET|SPAN_KIND_CLIENT')?.values[ERRORS]).toBe(0);
    const slow = series.get('42|2.0|AMS|GET /|SPAN_KIND_SERVER')?.values as Float64Array;
    expect(slow[FIRST_BUCKET + config.histogram.explicit.buckets.length]).toBe(1);
  });

  it('names a server span by its http.route, adds configured dimensions, skips spans of origin services', () => {
    const config = versionHealthConfig({
      dimensions: [{ name: 'http.request.method', default: 'GET' }, { name: 'deployment.environment.name' }],
    });
    const table = new RedTable(config);
    const origin = spanRecord({ resource: { 'service.name': 'shop-api' } });
    table.record(
      [
        span({ name: 'GET', attrs: { 'http.route': '/product/:id', 'http.request.method': 'POST' } }),
        span({ name: 'GET' }),
        { ...origin, span: { ...origin.span, kind: 2 } },
      ],
      0,
    );
    expect([...merged(table, config).keys()].sort()).toEqual([
      '42|1.0|FRA|/product/:id|SPAN_KIND_SERVER|POST|prod',
      '42|1.0|FRA|GET|SPAN_KIND_SERVER|GET|prod',
    ]);
  });

  it('re-weights spans the edge sampled by the ot=th threshold of their tracestate', () => {
    const table = new RedTable(versionHealthConfig());
    // th:c is a threshold of 0.75 × 2^56: p = 1/4, each kept span stands for 4.
    table.record(
      [span({ traceState: 'ot=th:c' }), span({ traceState: 'vendor=x,ot=rv:01;th:8' }), span()],
      0,
    );
    const values = [...merged(table).values()][0]?.values as Float64Array;
    expect(values[REQUESTS]).toBe(4 + 2 + 1);
    expect(values[FIRST_BUCKET + 2]).toBe(7);
  });

  it('stays within the cardinality limit; new combinations land in the overflow series', () => {
    const config = versionHealthConfig({ aggregation_cardinality_limit: 50 });
    const table = new RedTable(config);
    for (let batch = 0; batch < 1000; batch++) {
      table.record(
        Array.from({ length: 100 }, (_, i) => span({ version: `v${batch * 100 + i}` })),
        0,
      );
    }
    expect(table.seriesCount).toBe(50);
    const series = merged(table, config);
    expect(series.size).toBe(50);
    expect(series.get('overflow')?.values[REQUESTS]).toBe(100_000 - 49);
  });

  it('holds no more memory for 20,000 invented versions than for 50, where an unlimited table would', () => {
    // Heap retained by a live table after a full collection: the records are garbage by then.
    const retained = (limit: number) => {
      collectGarbage();
      const before = process.memoryUsage().heapUsed;
      const table = new RedTable(versionHealthConfig({ aggregation_cardinality_limit: limit }));
      for (let batch = 0; batch < 200; batch++) {
        table.record(
          Array.from({ length: 100 }, (_, i) => span({ version: `v${batch * 100 + i}` })),
          0,
        );
        table.snapshot(0);
      }
      collectGarbage();
      const bytes = process.memoryUsage().heapUsed - before;
      expect(table.seriesCount).toBe(Math.min(limit, 20_000));
      return bytes;
    };
    const bounded = retained(50);
    const unbounded = retained(100_000);
    // The contrast shows the measurement can see a growing table (tens of MB); the bound is a few MB
    // of noise from the collector's own bookkeeping.
    expect(unbounded).toBeGreaterThan(16 * 1024 * 1024);
    expect(bounded).toBeLessThan(4 * 1024 * 1024);
  });

  it('publishes exemplars only of traces the sampler kept', () => {
    const table = new RedTable(versionHealthConfig());
    table.keepsAll = false;
    table.record(
      Array.from({ length: 8 }, (_, i) => span({ traceId: traceOf(i), durMs: 3, error: i === 5 })),
      0,
    );
    expect(table.pendingExemplars).toBe(4 + 1);
    for (let i = 0; i < 8; i++) table.decided(traceOf(i), i === 2 || i === 5);
    expect(table.pendingExemplars).toBe(0);
    const snapshot = table.snapshot(0);
    expect(snapshot?.exemplars.map((e) => [e.traceId, e.bucket, e.error])).toEqual([
      [traceOf(2), 1, false],
      [traceOf(5), 1, true],
    ]);
    // Freed slots take new candidates.
    table.record([span({ traceId: traceOf(9), durMs: 3 })], 0);
    expect(table.pendingExemplars).toBe(1);
  });

  it('takes no candidates for traces another replica decides, and forgets undecided ones', () => {
    const table = new RedTable(versionHealthConfig());
    table.keepsAll = false;
    table.isLocal = (traceId) => traceId !== traceOf(1);
    table.record([span({ traceId: traceOf(1) }), span({ traceId: traceOf(2) })], 0);
    expect(table.pendingExemplars).toBe(1);
    table.snapshot(600_000);
    expect(table.pendingExemplars).toBe(0);
  });

  it('without tail sampling publishes at once, one exemplar per bucket per second', () => {
    const table = new RedTable(versionHealthConfig());
    table.record([span({ traceId: traceOf(1) }), span({ traceId: traceOf(2) })], 10_000);
    table.record([span({ traceId: traceOf(3) })], 11_000);
    expect(table.snapshot(11_000)?.exemplars.map((e) => e.traceId)).toEqual([traceOf(1), traceOf(3)]);
  });

  it('reports only what changed since the last snapshot', () => {
    const table = new RedTable(versionHealthConfig());
    table.record([span({ version: 'a' }), span({ version: 'b' })], 0);
    expect(table.snapshot(0)?.added).toHaveLength(2);
    expect(table.snapshot(0)).toBeUndefined();
    table.record([span({ version: 'b' })], 0);
    const next = table.snapshot(0);
    expect(next?.added).toEqual([]);
    expect(next?.changed).toEqual([1]);
  });
});
