import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { GZIP_PROTO, PLAIN_PROTO } from '../../test/support/formats.ts';
import { OtlpSink } from '../../test/support/otlp-sink.ts';
import { spanRecord } from '../../test/support/span-fixture.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { loadProto } from '../model/proto-files.ts';
import { resolveConfig } from '../service/load-config.ts';
import {
  allocateSharedMetrics,
  SharedMetricsReader,
  SharedMetricsWriter,
} from '../telemetry/shared-metrics.ts';
import { BatchDelivery } from './batch-delivery.ts';
import { type BatchStore, memoryBatchStore, type QueuedBatch } from './batch-store.ts';
import { ExportCredentials } from './credentials.ts';
import { HeldSpans } from './held-spans.ts';
import { OtlpEncoder } from './otlp-encoder.ts';

const Response = loadProto('opentelemetry/proto/collector/trace/v1/trace_service.proto').lookupType(
  'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
);
const encoded = new OtlpEncoder().encode([spanRecord(), spanRecord(), spanRecord()]);

let sink: OtlpSink | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

/** A delivery to a sink on 127.0.0.1, with one batch of 3 spans handed over and queued. */
async function setup(exporter: Record<string, unknown> = {}, persistent = false) {
  sink = await OtlpSink.start();
  const config = resolveConfig({
    exporter: {
      traces_endpoint: sink.url,
      headers: { 'lightstep-access-token': 'secret' },
      retry_on_failure: { initial_interval: '1ms', max_interval: '1ms' },
      ...exporter,
    },
  }).exporter;
  const buffer = allocateSharedMetrics(1);
  const writer = new SharedMetricsWriter(buffer, 0);
  const log = pino({ level: 'silent' });
  const held = new HeldSpans(writer, log);
  const store: BatchStore = { ...memoryBatchStore(config.sending_queue), persistent };
  const credentials = new ExportCredentials(config.headers, sink.url, log);
  const delivery = new BatchDelivery(config, store, held, writer, log, credentials);
  const queue = (body = encoded, format = PLAIN_PROTO): QueuedBatch => {
    held.hold(3);
    return store.put(body, 3, format) as QueuedBatch;
  };
  return { sink, delivery, held, store, queue, credentials, metrics: new SharedMetricsReader(buffer) };
}

describe('BatchDelivery', () => {
  it('sends a batch with the configured headers and the encoding it was stored with, then releases it', async () => {
    const { sink, delivery, held, store, queue, metrics } = await setup();
    const body = gzipSync(encoded);
    await delivery.send(queue(body, GZIP_PROTO));
    expect(sink.requests[0]?.headers).toMatchObject({
      'content-type': 'application/x-protobuf',
      'content-encoding': 'gzip',
      'lightstep-access-token': 'secret',
    });
    expect(sink.spans()).toHaveLength(3);
    expect(metrics.read('spansExported')).toBe(3);
    expect(metrics.read('exportRequests', 'success')).toBe(1);
    expect(metrics.read('exportedBytes')).toBe(body.length);
    expect(held.count).toBe(0);
    expect(store.fill()).toBe(0);
  });

  it('counts every attempt of a retried batch', async () => {
    const { sink, delivery, queue, metrics } = await setup();
    let attempts = 0;
    sink.reply = () => ({ status: ++attempts < 3 ? 503 : 200 });
    await delivery.send(queue());
    expect(metrics.read('exportRequests', 'retryable_error')).toBe(2);
    expect(metrics.read('exportedBytes')).toBe(3 * encoded.length);
    expect(metrics.read('spansExported')).toBe(3);
  });

  it('counts partial_success.rejected_spans as dropped and the rest as exported', async () => {
    const { sink, delivery, held, queue, metrics } = await setup();
    const partialSuccess = { rejectedSpans: 1, errorMessage: 'one span too old' };
    sink.reply = () => ({
      status: 200,
      body: Response.encode(Response.fromObject({ partialSuccess })).finish(),
    });
    await delivery.send(queue());
    expect(metrics.read('exportRequests', 'partial_success')).toBe(1);
    expect(metrics.read('spansExported')).toBe(2);
    expect(metrics.read('spansDropped', 'rejected_by_backend')).toBe(1);
    expect(held.count).toBe(0);
  });

  it.each([
    ['a refusal (400)', {}, 400, 'rejected_by_backend', 'permanent_error'],
    [
      'a failure with retries disabled',
      { retry_on_failure: { enabled: false } },
      503,
      'export_failed',
      'retryable_error',
    ],
    [
      'a failure past max_elapsed_time',
      { retry_on_failure: { max_elapsed_time: '1s' } },
      503,
      'retry_exhausted',
      'retryable_error',
    ],
  ] as const)('drops the batch on %s, with its reason', async (_case, exporter, status, reason, outcome) => {
    const { sink, delivery, held, store, queue, metrics } = await setup(exporter);
    sink.reply = () => ({ status, headers: { 'retry-after': '60' } });
    await delivery.send(queue());
    expect(metrics.read('spansDropped', reason)).toBe(3);
    expect(metrics.read('exportRequests', outcome)).toBe(1);
    expect(held.count).toBe(0);
    expect(store.fill()).toBe(0);
  });

  it('keeps a batch refused for its credentials and sends it with the new headers as soon as they come', async () => {
    // A backoff far longer than the test: only the change of headers can let the batch through.
    const { sink, delivery, held, queue, credentials, metrics } = await setup({
      retry_on_failure: { initial_interval: '1h', max_interval: '1h', max_elapsed_time: '0s' },
    });
    sink.reply = (request) => ({
      status: request.headers['lightstep-access-token'] === 'rotated' ? 200 : 401,
    });
    const sent = delivery.send(queue());
    await waitFor(() => metrics.read('exportRequests', 'unauthorized') === 1, 'the refusal');
    expect(held.count).toBe(3);
    credentials.set({ 'lightstep-access-token': 'rotated' });
    await sent;
    expect(sink.spans()).toHaveLength(3);
    expect(metrics.read('spansExported')).toBe(3);
    expect(metrics.read('spansDropped', 'rejected_by_backend')).toBe(0);
    expect(held.count).toBe(0);
  });

  it('drops a batch that cannot be read back from storage as storage_corrupt', async () => {
    const { delivery, held, store, queue, metrics } = await setup();
    const batch = queue();
    store.load = () => ({ problem: 'checksum mismatch' });
    await delivery.send(batch);
    expect(metrics.read('spansDropped', 'storage_corrupt')).toBe(3);
    expect(metrics.read('storageCorruptRecords')).toBe(1);
    expect(held.count).toBe(0);
    expect(store.fill()).toBe(0);
  });

  it('at the shutdown deadline drops the batch without storage', async () => {
    const { sink, delivery, held, queue, metrics } = await setup();
    sink.reply = () => ({ status: 503, headers: { 'retry-after': '60' } });
    delivery.stopBy(Date.now() + 10_000);
    await delivery.send(queue());
    expect(metrics.read('spansDropped', 'shutdown')).toBe(3);
    expect(held.count).toBe(0);
  });

  it('at the shutdown deadline keeps the batch in storage, and every later one with it', async () => {
    const { sink, delivery, held, store, queue, metrics } = await setup({}, true);
    let attempts = 0;
    sink.reply = () => ({ status: 503, headers: { 'retry-after': String(++attempts * 60) } });
    delivery.stopBy(Date.now() + 10_000);
    await delivery.send(queue());
    await delivery.send(queue());
    expect(attempts).toBe(1);
    expect(held.count).toBe(6);
    expect(store.fill()).toBeGreaterThan(0);
    expect(metrics.read('spansDropped', 'shutdown')).toBe(0);
  });

  it('counts nothing of a request that ends after the exporter was abandoned', async () => {
    const { sink, delivery, held, queue, metrics } = await setup();
    sink.reply = () => {
      delivery.abandon();
      return { status: 200 };
    };
    await delivery.send(queue());
    await delivery.send(queue());
    expect(sink.requests).toHaveLength(1);
    expect(metrics.read('spansExported')).toBe(0);
    expect(metrics.read('exportRequests', 'success')).toBe(0);
    expect(held.count).toBe(6);
  });
});
