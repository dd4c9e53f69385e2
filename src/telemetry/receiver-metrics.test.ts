import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { metricValue } from '../../test/support/prometheus-text.ts';
import { allocateReceiverMetrics, ReceiverMetricsReader, ReceiverMetricsWriter } from './receiver-metrics.ts';

describe('receiver metrics in shared memory', () => {
  const buffer = allocateReceiverMetrics(2);
  const threads = [0, 1].map((thread) => new ReceiverMetricsWriter(buffer, thread));
  const reader = new ReceiverMetricsReader(buffer);
  const registry = new Registry();
  reader.register(registry);
  for (const [thread, spans] of [6, 4].entries()) {
    const metrics = threads[thread] as ReceiverMetricsWriter;
    metrics.beaconsReceived.labels({ result: 'accepted' }).inc();
    metrics.spansReceived.labels({ result: 'accepted', protocol: 'beacon' }).inc(spans);
    metrics.ackLatency.labels({ route: 'beacons' }).observe(0.0003);
  }
  threads[1]?.spansReceived.labels({ result: 'accepted', protocol: 'otlp' }).inc(10);
  threads[1]?.ackLatency.labels({ route: 'traces' }).observe(1);
  threads[1]?.rejected('invalid');
  // A connection cut by the server was never a request answered.
  threads[1]?.rejected('too_many_connections');
  threads[0]?.connections(1);
  threads[1]?.connections(1);
  threads[1]?.connections(1);
  threads[1]?.connections(-1);

  it('sums every thread for the accounting identity', () => {
    expect(reader.spansAccepted()).toBe(20);
    expect(reader.spans('rejected')).toBe(0);
  });

  it('counts the requests each thread answered, acknowledged or refused', () => {
    expect([reader.answered(0), reader.answered(1)]).toEqual([1, 3]);
  });

  it('serves the names and labels the receiver always had, summed over threads', async () => {
    const text = await registry.metrics();
    expect(metricValue(text, 'edge_relay_beacons_received_total', { result: 'accepted' })).toBe(2);
    expect(
      metricValue(text, 'edge_relay_spans_received_total', { result: 'accepted', protocol: 'otlp' }),
    ).toBe(10);
    expect(metricValue(text, 'edge_relay_requests_rejected_total', { reason: 'invalid' })).toBe(1);
    const beacons = { route: 'beacons' };
    expect(metricValue(text, 'edge_relay_ack_latency_seconds_count', beacons)).toBe(2);
    expect(metricValue(text, 'edge_relay_ack_latency_seconds_bucket', { ...beacons, le: '0.00025' })).toBe(0);
    expect(metricValue(text, 'edge_relay_ack_latency_seconds_bucket', { ...beacons, le: '0.0005' })).toBe(2);
    expect(metricValue(text, 'edge_relay_ack_latency_seconds_bucket', { route: 'traces', le: '+Inf' })).toBe(
      1,
    );
    expect(metricValue(text, 'edge_relay_ack_latency_seconds_sum', { route: 'traces' })).toBe(1);
    expect(metricValue(text, 'edge_relay_receiver_requests_total', { thread: '1' })).toBe(3);
    expect(metricValue(text, 'edge_relay_requests_rejected_total', { reason: 'too_many_connections' })).toBe(
      1,
    );
    expect(metricValue(text, 'edge_relay_receiver_connections')).toBe(2);
  });
});
