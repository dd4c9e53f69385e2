import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { OtlpSink } from '../../test/support/otlp-sink.ts';
import { spanRecord } from '../../test/support/span-fixture.ts';
import { resolveConfig } from '../service/load-config.ts';
import {
  allocateSharedMetrics,
  SharedMetricsReader,
  SharedMetricsWriter,
} from '../telemetry/shared-metrics.ts';
import { type BatchStore, createBatchStore } from './batch-store.ts';
import type { ExporterConfig } from './config.ts';
import { otlpHttpExporter } from './otlp-http-exporter.ts';

const log = pino({ level: 'silent' });
const records = (n: number) => Array.from({ length: n }, () => spanRecord());

let sink: OtlpSink | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

async function start(exporter: Record<string, unknown> = {}) {
  sink = await OtlpSink.start();
  const config = resolveConfig({
    exporter: { traces_endpoint: sink.url, retry_on_failure: { initial_interval: '1ms' }, ...exporter },
  }).exporter;
  return { sink, config };
}

function exporterOn(
  config: ExporterConfig,
  store: BatchStore = createBatchStore(config.sending_queue, 0, 1),
) {
  const buffer = allocateSharedMetrics(1);
  const exporter = otlpHttpExporter(config, store, new SharedMetricsWriter(buffer, 0), log);
  return { exporter, metrics: new SharedMetricsReader(buffer) };
}

describe('otlpHttpExporter', () => {
  it('encodes, compresses and delivers what it is handed; drain waits for it', async () => {
    const { sink, config } = await start();
    const { exporter, metrics } = exporterOn(config);
    exporter.export(records(4));
    exporter.export(records(2));
    await exporter.drain(Date.now() + 10_000);
    expect(sink.spans()).toHaveLength(6);
    expect(sink.requests.every((r) => r.headers['content-encoding'] === 'gzip')).toBe(true);
    expect(metrics.read('spansExported')).toBe(6);
    expect(metrics.read('queueSpans')).toBe(0);
  });

  it('drops a batch the sending queue has no room for as queue_full', async () => {
    const { sink, config } = await start({ sending_queue: { queue_size: 1, num_consumers: 1 } });
    let release = () => {};
    const backendBack = new Promise<void>((resolve) => {
      release = resolve;
    });
    sink.reply = async () => {
      await backendBack;
      return { status: 200 };
    };
    const { exporter, metrics } = exporterOn(config);
    for (let i = 0; i < 3; i++) exporter.export(records(1));
    const draining = exporter.drain(Date.now() + 10_000);
    await expect.poll(() => metrics.read('spansDropped', 'queue_full')).toBe(1);
    release();
    await draining;
    expect(metrics.read('spansExported')).toBe(2);
  });

  it('at the shutdown deadline counts what is still unsettled as dropped (shutdown)', async () => {
    const { sink, config } = await start();
    sink.reply = () => new Promise(() => {});
    const { exporter, metrics } = exporterOn(config);
    exporter.export(records(3));
    await exporter.drain(Date.now() + 200);
    expect(metrics.read('spansDropped', 'shutdown')).toBe(3);
    expect(metrics.read('queueSpans')).toBe(0);
  });

  it('replays at start what a previous run left in storage, and leaves on disk what it cannot send', async () => {
    const storage = mkdtempSync(join(tmpdir(), 'otlp-exporter-'));
    const { sink, config } = await start({ sending_queue: { storage } });
    sink.reply = () => ({ status: 503, headers: { 'retry-after': '60' } });
    const previous = exporterOn(config);
    previous.exporter.export(records(5));
    await previous.exporter.drain(Date.now() + 1000);
    expect(previous.metrics.read('queueSpans')).toBe(5);
    expect(previous.metrics.read('spansDropped', 'shutdown')).toBe(0);

    sink.reply = () => ({ status: 200 });
    const next = exporterOn(config);
    await next.exporter.drain(Date.now() + 10_000);
    expect(next.metrics.read('spansRecovered')).toBe(5);
    expect(next.metrics.read('spansExported')).toBe(5);
    expect(sink.spans()).toHaveLength(5);
  });
});
