import { atDeadline } from '../lib/deadline.ts';
import type { SpanRecord } from '../model/span.ts';
import type { Logger } from '../telemetry/logger.ts';
import { bySegment, type SettledSegmentsWriter } from '../telemetry/settled-segments.ts';
import type { SharedMetricsWriter } from '../telemetry/shared-metrics.ts';
import { BatchDelivery } from './batch-delivery.ts';
import type { BatchStore, QueuedBatch } from './batch-store.ts';
import { formatFlags } from './body-format.ts';
import { Compression } from './compression.ts';
import { type ExporterConfig, tracesUrl } from './config.ts';
import { ExportCredentials } from './credentials.ts';
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
 * storage) left on disk for the next start; `queueSpans` is the count of those not yet settled. With the
 * write-ahead log on, `settled` counts each batch against its segment once it is persisted (with storage)
 * or delivered or dropped (without), so batches are cut at segment boundaries.
 */
export function otlpHttpExporter(
  config: ExporterConfig,
  store: BatchStore,
  metrics: SharedMetricsWriter,
  log: Logger,
  settled?: SettledSegmentsWriter,
): Exporter {
  // Batches replayed from storage were settled against their segment in the run that stored them.
  const settleSegment = (segment: number | undefined, spans: number) => {
    if (segment !== undefined) settled?.add(segment, spans);
  };
  const encoder = new OtlpEncoder();
  const encode =
    config.encoding === 'json' ? encodeOtlpJson : (records: readonly SpanRecord[]) => encoder.encode(records);
  const held = new HeldSpans(metrics, log);
  const compression = new Compression(config.compression || 'none');
  const format = formatFlags({ encoding: config.encoding, compression: compression.name });
  const credentials = new ExportCredentials(config.headers, tracesUrl(config), log);
  const delivery = new BatchDelivery(config, store, held, metrics, log, credentials, (batch) => {
    if (!store.persistent) settleSegment(batch.segment, batch.spans);
  });
  const queue = new SendingQueue<QueuedBatch>(
    config.sending_queue.num_consumers,
    (batch) => delivery.send(batch),
    (batches) => {
      metrics.set('queueBatches', batches);
      metrics.set('queueFill', store.fill());
    },
  );
  for (const batch of recoverQueue(store, held, log)) queue.offer(batch);
  if (store.superseded > 0) {
    log.info({ spans: store.superseded }, 'persistent-queue batches left for the write-ahead log replay');
  }

  function enqueue(body: Uint8Array, spans: number, segment: number | undefined): void {
    let batch: QueuedBatch | undefined;
    try {
      batch = store.put(body, spans, format, segment);
    } catch (err) {
      held.drop(spans, 'storage_error', `cannot write the batch to storage: ${(err as Error).message}`);
      // Admission reads this at its next check and refuses new data until the storage can take more.
      metrics.set('storageFailing', 1);
      settleSegment(segment, spans);
      return;
    }
    if (batch) {
      if (store.persistent) settleSegment(segment, spans);
      queue.offer(batch);
    } else {
      held.drop(spans, 'queue_full', store.persistent ? 'storage is full' : 'sending queue is full');
      settleSegment(segment, spans);
    }
  }

  function exportBatch(records: readonly SpanRecord[]): void {
    const spans = records.length;
    const segment = records[0]?.segment;
    held.hold(spans);
    compression.run(
      encode(records),
      (body) => enqueue(body, spans, segment),
      (err) => {
        held.drop(spans, 'export_failed', `compression failed: ${err.message}`);
        settleSegment(segment, spans);
      },
    );
  }

  return {
    export(records) {
      if (settled === undefined) exportBatch(records);
      else for (const part of bySegment(records)) exportBatch(part);
    },
    setHeaders(headers) {
      credentials.set(headers);
    },
    async drain(deadline) {
      delivery.stopBy(deadline);
      await compression.idle();
      const done = await Promise.race([queue.idle().then(() => true), atDeadline(deadline, false)]);
      if (held.count > 0 && store.persistent) {
        log.info({ spans: held.count }, 'spans left in the persistent queue for the next start');
      } else if (!done) {
        held.drop(held.count, 'shutdown', 'shutdown deadline reached');
      }
      delivery.abandon();
    },
  };
}
