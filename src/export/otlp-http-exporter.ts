import { setTimeout as sleep } from 'node:timers/promises';
import type { SpanRecord } from '../model/span.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { SharedMetricsWriter } from '../telemetry/shared-metrics.ts';
import { BatchDelivery } from './batch-delivery.ts';
import type { BatchStore, QueuedBatch } from './batch-store.ts';
import { formatFlags } from './body-format.ts';
import { Compression } from './compression.ts';
import type { ExporterConfig } from './config.ts';
import type { Exporter } from './exporter.ts';
import { HeldSpans } from './held-spans.ts';
import { OtlpEncoder } from './otlp-encoder.ts';
import { encodeOtlpJson } from './otlp-json-encoder.ts';
import { recoverQueue } from './recover-queue.ts';
import { SendingQueue } from './sending-queue.ts';

/**
 * Sends kept spans to an OTLP/HTTP endpoint as protobuf or JSON: encode, compress, queue (in memory or on
 * disk), deliver with retries. Runs inside a worker thread, so the ingest event loop never waits on
 * any of it. Every span handed over is, in the end, exported, dropped with a reason, or (with
 * storage) left on disk for the next start; `queueSpans` is the count of those not yet settled.
 */
export function otlpHttpExporter(
  config: ExporterConfig,
  store: BatchStore,
  metrics: SharedMetricsWriter,
  log: Logger,
): Exporter {
  const encoder = new OtlpEncoder();
  const encode =
    config.encoding === 'json' ? encodeOtlpJson : (records: readonly SpanRecord[]) => encoder.encode(records);
  const held = new HeldSpans(metrics, log);
  const compression = new Compression(config.compression || 'none');
  const format = formatFlags({ encoding: config.encoding, compression: compression.name });
  const delivery = new BatchDelivery(config, store, held, metrics);
  const queue = new SendingQueue<QueuedBatch>(
    config.sending_queue.num_consumers,
    (batch) => delivery.send(batch),
    (batches) => {
      metrics.set('queueBatches', batches);
      metrics.set('queueFill', store.fill());
    },
  );
  for (const batch of recoverQueue(store, held, log)) queue.offer(batch);

  function enqueue(body: Uint8Array, spans: number): void {
    let batch: QueuedBatch | undefined;
    try {
      batch = store.put(body, spans, format);
    } catch (err) {
      held.drop(spans, 'storage_error', `cannot write the batch to storage: ${(err as Error).message}`);
      return;
    }
    if (batch) queue.offer(batch);
    else held.drop(spans, 'queue_full', store.persistent ? 'storage is full' : 'sending queue is full');
  }

  return {
    export(records) {
      const spans = records.length;
      held.hold(spans);
      compression.run(
        encode(records),
        (body) => enqueue(body, spans),
        (err) => held.drop(spans, 'export_failed', `compression failed: ${err.message}`),
      );
    },
    async drain(deadline) {
      delivery.stopBy(deadline);
      await compression.idle();
      const done = await Promise.race([
        queue.idle().then(() => true),
        sleep(Math.max(0, deadline - Date.now()), false, { ref: false }),
      ]);
      if (held.count > 0 && store.persistent) {
        log.info({ spans: held.count }, 'spans left in the persistent queue for the next start');
      } else if (!done) {
        held.drop(held.count, 'shutdown', 'shutdown deadline reached');
      }
      delivery.abandon();
    },
  };
}
