import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { constants, gzip } from 'node:zlib';
import { backoffDelay, parseRetryAfter, RETRYABLE_STATUS } from '../lib/retry.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { SHARED_METRICS, SharedMetricsWriter } from '../telemetry/shared-metrics.ts';
import type { BatchStore, QueuedBatch } from './batch-store.ts';
import type { ExporterConfig } from './config.ts';
import { readPartialSuccess, rejectedOf } from './export-response.ts';
import type { Exporter } from './exporter.ts';
import { OtlpEncoder } from './otlp-encoder.ts';
import { SendingQueue } from './sending-queue.ts';

const gzipAsync = promisify(gzip);

type DropReason = (typeof SHARED_METRICS.spansDropped.values)[number];

type Attempt =
  | { outcome: 'success'; rejected: number; message: string }
  | { outcome: 'retryable'; retryAfter: number | undefined; detail: string }
  | { outcome: 'permanent'; detail: string };

/**
 * Sends kept spans to an OTLP/HTTP endpoint as protobuf: encode, gzip, queue (in memory or on disk),
 * send with retries. Runs inside a worker thread, so the ingest event loop never waits on any of it.
 * Every span handed over is, in the end, exported, dropped with a reason, or (with storage) left on
 * disk for the next start; `queueSpans` is the count of those not yet settled.
 */
export function otlpHttpExporter(
  config: ExporterConfig,
  store: BatchStore,
  metrics: SharedMetricsWriter,
  log: Logger,
): Exporter {
  const encoder = new OtlpEncoder();
  // Per batch, not per config: a batch replayed from disk keeps the encoding it was stored with.
  const plainHeaders = { ...config.headers, 'content-type': 'application/x-protobuf' };
  const gzipHeaders = { ...plainHeaders, 'content-encoding': 'gzip' };
  const compressing = new Set<Promise<void>>();
  let stopAt = Number.POSITIVE_INFINITY;
  let held = 0;
  // Set at the shutdown deadline: what is still unsettled was counted (dropped, or left on disk) then,
  // so late outcomes must not be counted again.
  let abandoned = false;
  // Set when, during shutdown, the backend fails and storage is configured: the rest stays on disk.
  let persistRest = false;

  const hold = (spans: number) => {
    held += spans;
    metrics.set('queueSpans', held);
  };
  const settle = (spans: number) => hold(-spans);
  const drop = (spans: number, reason: DropReason, detail: string) => {
    if (abandoned) return;
    metrics.add('spansDropped', spans, reason);
    settle(spans);
    log.warn({ spans, reason, detail }, 'spans dropped');
  };

  async function attempt(body: Uint8Array, gzipped: boolean): Promise<Attempt> {
    let response: Response;
    try {
      response = await fetch(config.traces_endpoint, {
        method: 'POST',
        headers: gzipped ? gzipHeaders : plainHeaders,
        body,
        signal: AbortSignal.timeout(config.timeout),
      });
    } catch (err) {
      return { outcome: 'retryable', retryAfter: undefined, detail: (err as Error).message };
    }
    const answer = new Uint8Array(await response.arrayBuffer().catch(() => new ArrayBuffer(0)));
    if (response.ok) {
      const partial = readPartialSuccess(answer);
      return {
        outcome: 'success',
        rejected: partial?.rejectedSpans ?? 0,
        message: partial?.errorMessage ?? '',
      };
    }
    const detail = `HTTP ${response.status}`;
    if (RETRYABLE_STATUS.has(response.status)) {
      return {
        outcome: 'retryable',
        retryAfter: parseRetryAfter(response.headers.get('retry-after')),
        detail,
      };
    }
    return { outcome: 'permanent', detail };
  }

  /** Sends one batch until it is settled; false when it must stay in storage for the next start. */
  async function deliver(batch: QueuedBatch, body: Uint8Array): Promise<boolean> {
    const started = Date.now();
    for (let retry = 0; ; retry++) {
      const result = await attempt(body, batch.gzip);
      if (abandoned) return false;
      metrics.add('exportedBytes', body.length);
      if (result.outcome === 'success') {
        const { rejected, lie } = rejectedOf(result.rejected, batch.spans);
        if (lie) {
          metrics.add('exportPartialSuccessInvalid', 1);
          log.warn(
            { claimed: result.rejected, spans: batch.spans },
            'backend claimed an impossible rejected_spans',
          );
        }
        metrics.add('exportRequests', 1, rejected > 0 ? 'partial_success' : 'success');
        metrics.add('spansExported', batch.spans - rejected);
        settle(batch.spans - rejected);
        if (rejected > 0) drop(rejected, 'rejected_by_backend', result.message);
        return true;
      }
      if (result.outcome === 'permanent') {
        metrics.add('exportRequests', 1, 'permanent_error');
        drop(batch.spans, 'rejected_by_backend', result.detail);
        return true;
      }
      metrics.add('exportRequests', 1, 'retryable_error');
      if (!config.retry_on_failure.enabled) {
        drop(batch.spans, 'export_failed', result.detail);
        return true;
      }
      // The server's Retry-After wins over our own backoff (OTLP/HTTP spec), within max_elapsed_time.
      const delay = result.retryAfter ?? backoffDelay(config.retry_on_failure, retry);
      const maxElapsed = config.retry_on_failure.max_elapsed_time;
      if (maxElapsed > 0 && Date.now() + delay - started > maxElapsed) {
        drop(batch.spans, 'retry_exhausted', result.detail);
        return true;
      }
      if (Date.now() + delay > stopAt) {
        if (store.persistent) {
          persistRest = true;
          return false;
        }
        drop(batch.spans, 'shutdown', `${result.detail}; shutdown deadline reached`);
        return true;
      }
      await sleep(delay);
    }
  }

  async function send(batch: QueuedBatch): Promise<void> {
    if (abandoned || persistRest) return;
    const body = store.load(batch);
    if (!(body instanceof Uint8Array)) {
      metrics.add('storageCorruptRecords', 1);
      drop(batch.spans, 'storage_corrupt', body.problem);
      store.release(batch);
      return;
    }
    if (await deliver(batch, body)) store.release(batch);
  }

  const queue = new SendingQueue<QueuedBatch>(config.sending_queue.num_consumers, send, (batches) => {
    metrics.set('queueBatches', batches);
    metrics.set('queueFill', store.fill());
  });

  for (const record of store.corrupt) {
    metrics.add('spansRecovered', record.spans);
    hold(record.spans);
    metrics.add('storageCorruptRecords', 1);
    drop(record.spans, 'storage_corrupt', `${record.file}: ${record.problem}`);
  }
  const recoveredSpans = store.recovered.reduce((sum, batch) => sum + batch.spans, 0);
  if (store.recovered.length > 0) {
    log.info({ batches: store.recovered.length, spans: recoveredSpans }, 'replaying the persistent queue');
  }
  metrics.add('spansRecovered', recoveredSpans);
  hold(recoveredSpans);
  for (const batch of store.recovered) queue.offer(batch);

  function enqueue(body: Uint8Array, spans: number, gzipped: boolean): void {
    let batch: QueuedBatch | undefined;
    try {
      batch = store.put(body, spans, gzipped);
    } catch (err) {
      // Admission reads this at its next check and refuses new data until the storage can take more.
      metrics.set('storageFailing', 1);
      drop(spans, 'storage_error', `cannot write the batch to storage: ${(err as Error).message}`);
      return;
    }
    if (batch) queue.offer(batch);
    else drop(spans, 'queue_full', store.persistent ? 'storage is full' : 'sending queue is full');
  }

  return {
    export(records) {
      const spans = records.length;
      hold(spans);
      const encoded = encoder.encode(records);
      const gzipped = config.compression === 'gzip';
      const compressed = gzipped
        ? gzipAsync(encoded, { level: constants.Z_BEST_SPEED })
        : Promise.resolve(encoded);
      const enqueued = compressed
        .then((body) => enqueue(body, spans, gzipped))
        .catch((err: Error) => drop(spans, 'export_failed', `compression failed: ${err.message}`))
        .finally(() => compressing.delete(enqueued));
      compressing.add(enqueued);
    },
    async drain(deadline) {
      stopAt = deadline;
      await Promise.all(compressing);
      const done = await Promise.race([
        queue.idle().then(() => true),
        sleep(Math.max(0, deadline - Date.now()), false, { ref: false }),
      ]);
      if (held > 0 && store.persistent) {
        log.info({ spans: held }, 'spans left in the persistent queue for the next start');
      } else if (!done) {
        drop(held, 'shutdown', 'shutdown deadline reached');
      }
      abandoned = true;
    },
  };
}
