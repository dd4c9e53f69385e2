import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../telemetry/logger.ts';
import {
  allocateSharedMetrics,
  SharedMetricsReader,
  SharedMetricsWriter,
} from '../telemetry/shared-metrics.ts';
import { Admission, retryAfterSeconds } from './admission.ts';

function setup() {
  const buffer = allocateSharedMetrics(2);
  const shards = [0, 1].map((shard) => new SharedMetricsWriter(buffer, shard));
  let rss = 100;
  const admission = new Admission({
    limits: { hard: 1000, soft: 800 },
    shared: new SharedMetricsReader(buffer),
    rss: () => rss,
    registry: new Registry(),
    log: createLogger('error'),
  });
  return { admission, shards, setRss: (value: number) => (rss = value) };
}

describe('Admission', () => {
  it('sheds while RSS is over the soft limit', () => {
    const { admission, setRss } = setup();
    admission.check(1000);
    expect(admission.shedding).toBe(false);
    setRss(900);
    admission.check(2000);
    expect([admission.shedding, admission.why]).toEqual([true, 'memory']);
    setRss(700);
    admission.check(3000);
    expect(admission.shedding).toBe(false);
  });

  it('sheds when any shard queue reaches 90% and resumes only below 80%', () => {
    const { admission, shards } = setup();
    shards[1]?.set('queueFill', 0.9);
    admission.check(1000);
    expect(admission.why).toBe('queue');
    shards[1]?.set('queueFill', 0.85);
    admission.check(2000);
    expect(admission.why).toBe('queue');
    shards[1]?.set('queueFill', 0.5);
    admission.check(3000);
    expect(admission.shedding).toBe(false);
  });

  it('asks for the time the measured drain rate needs to clear the excess', () => {
    const { admission, shards } = setup();
    const shard = shards[0] as SharedMetricsWriter;
    admission.check(1000);
    shard.add('spansExported', 1000); // 1,000 spans/s
    shard.set('queueSpans', 10_000);
    shard.set('queueFill', 1);
    admission.check(2000);
    // 20% of 10,000 held spans over the resume level, at 1,000 spans/s.
    expect(admission.retryAfter).toBe(2);
  });

  it('bounds Retry-After, and asks for the maximum when nothing drains', () => {
    expect(retryAfterSeconds(10, 1000)).toBe(1);
    expect(retryAfterSeconds(1e9, 1000)).toBe(30);
    expect(retryAfterSeconds(10, 0)).toBe(30);
  });
});
