import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { spanRecord } from '../../test/support/span-fixture.ts';
import { versionHealthConfig } from '../../test/support/version-health.ts';
import type { SpanRecord } from '../model/span.ts';
import { openMetricsText } from '../telemetry/openmetrics-text.ts';
import { MergedHealth } from './merged-health.ts';
import { versionHealthExposition } from './prometheus.ts';
import { RedTable } from './red-table.ts';
import { REQUESTS } from './snapshot.ts';

function server(version: string, traceId: string, durMs = 3): SpanRecord {
  const record = spanRecord({
    traceId,
    durMs,
    resource: {
      'akamai.edgeworker.id': '42',
      'akamai.edgeworker.version': version,
      'akamai.edge.pop': 'FRA',
    },
  });
  return { ...record, span: { ...record.span, name: 'GET /', kind: 2 } };
}

const trace = (n: number) => n.toString(16).padStart(32, 'b');

describe('MergedHealth', () => {
  it('adds shards up and counts a repeated snapshot once (values are cumulative)', () => {
    const config = versionHealthConfig();
    const merged = new MergedHealth(config);
    const shards = [new RedTable(config), new RedTable(config)];
    shards[0]?.record([server('1', trace(1)), server('2', trace(2))], 0);
    shards[1]?.record([server('2', trace(3))], 0);
    for (const [shard, table] of shards.entries()) merged.apply(shard, table.snapshot(0) ?? assert());
    shards[1]?.record([server('2', trace(4))], 0);
    const again = shards[1]?.snapshot(0) ?? assert();
    merged.apply(1, again);
    merged.apply(1, { ...again, added: [] });
    expect(merged.series.map((s) => [s.labels[1], s.values[REQUESTS]])).toEqual([
      ['1', 1],
      ['2', 3],
    ]);
  });

  it('applies the cardinality limit to the union of the shards', () => {
    const config = versionHealthConfig({ aggregation_cardinality_limit: 3 });
    const merged = new MergedHealth(config);
    for (let shard = 0; shard < 2; shard++) {
      const table = new RedTable(config);
      table.record(
        [server(`a${shard}`, trace(1)), server(`b${shard}`, trace(2)), server(`c${shard}`, trace(3))],
        0,
      );
      merged.apply(shard, table.snapshot(0) ?? assert());
    }
    expect(merged.series.map((s) => (s.overflow ? 'overflow' : s.labels[1]))).toEqual([
      'a0',
      'b0',
      'overflow',
    ]);
    expect(merged.series[2]?.values[REQUESTS]).toBe(4);
  });

  it('serves OpenMetrics with exemplars on buckets and the errors counter, Prometheus text without', async () => {
    const config = versionHealthConfig({ histogram: { explicit: { buckets: ['5ms', '50ms'] } } });
    const merged = new MergedHealth(config);
    const table = new RedTable(config);
    table.keepsAll = false;
    const failed = server('1', trace(2), 30);
    table.record(
      [server('1', trace(1)), { ...failed, span: { ...failed.span, status: { code: 2, message: '' } } }],
      0,
    );
    table.decided(trace(1), true);
    table.decided(trace(2), true);
    merged.apply(0, table.snapshot(0) ?? assert());
    const write = versionHealthExposition(merged, config);
    const labels =
      'akamai_edgeworker_id="42",akamai_edgeworker_version="1",akamai_edge_pop="FRA",span_name="GET /",span_kind="SPAN_KIND_SERVER"';
    const text = await openMetricsText(new Registry(), [write(true)]);
    expect(text.split('\n')).toEqual(
      expect.arrayContaining([
        '# TYPE edge_relay_edge_requests counter',
        `edge_relay_edge_requests_total{${labels}} 2`,
        expect.stringMatching(
          new RegExp(
            `^edge_relay_edge_errors_total\\{${escapeRegExp(labels)}\\} 1 # \\{trace_id="${trace(2)}",span_id="[0-9a-f]{16}"\\} 0.03 \\d+(\\.\\d+)?$`,
          ),
        ),
        expect.stringMatching(
          new RegExp(
            `^edge_relay_edge_request_duration_seconds_bucket\\{${escapeRegExp(labels)},le="0.005"\\} 1 # \\{trace_id="${trace(1)}",`,
          ),
        ),
        `edge_relay_edge_request_duration_seconds_bucket{${labels},le="0.05"} 2 # {trace_id="${trace(2)}",span_id="${failed.span.spanId}"} 0.03 ${Number(failed.span.endTimeUnixNano / 1_000_000n) / 1000}`,
        `edge_relay_edge_request_duration_seconds_count{${labels}} 2`,
      ]),
    );
    expect(text.endsWith('# EOF\n')).toBe(true);
    const prometheus = write(false);
    expect(prometheus).toContain(`edge_relay_edge_errors_total{${labels}} 1\n`);
    expect(prometheus).not.toContain('trace_id');
  });
});

function assert(): never {
  throw new Error('expected a snapshot');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
