import type { HistogramMetricData, SumMetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { spanRecord } from '../../test/support/span-fixture.ts';
import { versionHealthConfig } from '../../test/support/version-health.ts';
import { MergedHealth } from './merged-health.ts';
import { VersionHealthProducer } from './otlp-push.ts';
import { RedTable } from './red-table.ts';

const edge = { 'akamai.edgeworker.id': '42', 'akamai.edgeworker.version': '1', 'akamai.edge.pop': 'FRA' };

function setup(temporality: string) {
  const config = versionHealthConfig({
    aggregation_temporality: temporality,
    histogram: { unit: 'ms', explicit: { buckets: ['5ms'] } },
  });
  const merged = new MergedHealth(config);
  const table = new RedTable(config);
  const count = (spans: number, traceState = '') => {
    const records = Array.from({ length: spans }, () => {
      const r = spanRecord({ resource: edge, durMs: 3, traceState });
      return { ...r, span: { ...r.span, kind: 2 as const } };
    });
    table.record(records, 0);
    merged.apply(0, table.snapshot(0) as NonNullable<ReturnType<RedTable['snapshot']>>);
  };
  return { producer: new VersionHealthProducer(merged, config), count };
}

async function points(producer: VersionHealthProducer) {
  const { resourceMetrics } = await producer.collect();
  const metrics = resourceMetrics.scopeMetrics[0]?.metrics ?? [];
  const requests = (metrics[0] as SumMetricData | undefined)?.dataPoints[0]?.value;
  const histogram = (metrics[2] as HistogramMetricData | undefined)?.dataPoints[0]?.value;
  return { resourceMetrics, requests, counts: histogram?.buckets.counts, sum: histogram?.sum };
}

describe('VersionHealthProducer', () => {
  it('delta: each push has what the backend has not accepted yet', async () => {
    const { producer, count } = setup('AGGREGATION_TEMPORALITY_DELTA');
    count(3);
    const first = await points(producer);
    expect(first.requests).toBe(3);
    expect(first.counts).toEqual([3, 0]);
    // Refused: the next push carries these 3 as well.
    count(2);
    const second = await points(producer);
    expect(second.requests).toBe(5);
    producer.accepted(second.resourceMetrics);
    count(1);
    expect((await points(producer)).requests).toBe(1);
  });

  it('delta: nothing new means no push at all', async () => {
    const { producer, count } = setup('AGGREGATION_TEMPORALITY_DELTA');
    count(1);
    producer.accepted((await points(producer)).resourceMetrics);
    expect((await points(producer)).resourceMetrics.scopeMetrics).toEqual([]);
  });

  it('cumulative, in the configured unit, with integer bucket counts for re-weighted spans', async () => {
    const { producer, count } = setup('AGGREGATION_TEMPORALITY_CUMULATIVE');
    // th:4 is p = 3/4: each span stands for 4/3.
    count(2, 'ot=th:4');
    const { requests, counts, sum } = await points(producer);
    expect(requests).toBeCloseTo(8 / 3, 12);
    expect(counts).toEqual([3, 0]);
    expect(sum).toBeCloseTo((8 / 3) * 3, 9);
  });
});
