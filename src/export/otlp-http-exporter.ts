import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { constants, gzip } from 'node:zlib';
import type { Logger } from '../telemetry/logger.ts';
import type { SharedMetricsWriter } from '../telemetry/shared-metrics.ts';
import type { ExporterConfig } from './config.ts';
import { readPartialSuccess } from './export-response.ts';
import type { Exporter } from './exporter.ts';
import { OtlpEncoder } from './otlp-encoder.ts';
import { backoffDelay, parseRetryAfter, RETRYABLE_STATUS } from './retry.ts';
import { SendingQueue } from './sending-queue.ts';

const gzipAsync = promisify(gzip);

interface EncodedBatch {
  readonly body: Uint8Array;
  readonly spans: number;
}

type DropReason = 'queue_full' | 'retry_exhausted' | 'rejected_by_backend' | 'export_failed' | 'shutdown';

type Attempt =
  | { outcome: 'success'; rejected: number; message: string }
  | { outcome: 'retryable'; retryAfter: number | undefined; detail: string }
  | { outcome: 'permanent'; detail: string };

/**
 * Sends kept spans to an OTLP/HTTP endpoint as protobuf: encode, gzip, queue, send with retries.
 * Runs inside a worker thread, so the ingest event loop never waits on any of it.
 */
export function otlpHttpExporter(
  config: ExporterConfig,
  metrics: SharedMetricsWriter,
  log: Logger,
): Exporter {
  const encoder = new OtlpEncoder();
  const headers: Record<string, string> = {
    ...config.headers,
    'content-type': 'application/x-protobuf',
    ...(config.compression === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
  };
  const compressing = new Set<Promise<void>>();
  let stopAt = Number.POSITIVE_INFINITY;
  // Set at the shutdown deadline: sends still in flight were counted as dropped then, so their late
  // outcome must not be counted again.
  let abandoned = false;

  const drop = (spans: number, reason: DropReason, detail: string) => {
    if (abandoned) return;
    metrics.add('spansDropped', spans, reason);
    log.warn({ spans, reason, detail }, 'spans dropped');
  };

  async function attempt(batch: EncodedBatch): Promise<Attempt> {
    let response: Response;
    try {
      response = await fetch(config.traces_endpoint, {
        method: 'POST',
        headers,
        body: batch.body,
        signal: AbortSignal.timeout(config.timeout),
      });
    } catch (err) {
      return { outcome: 'retryable', retryAfter: undefined, detail: (err as Error).message };
    }
    const body = new Uint8Array(await response.arrayBuffer().catch(() => new ArrayBuffer(0)));
    if (response.ok) {
      const partial = readPartialSuccess(body);
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

  async function send(batch: EncodedBatch): Promise<void> {
    const started = Date.now();
    for (let retry = 0; ; retry++) {
      const result = await attempt(batch);
      if (abandoned) return;
      metrics.add('exportedBytes', batch.body.length);
      if (result.outcome === 'success') {
        metrics.add('exportRequests', 1, result.rejected > 0 ? 'partial_success' : 'success');
        metrics.add('spansExported', batch.spans - result.rejected);
        if (result.rejected > 0) drop(result.rejected, 'rejected_by_backend', result.message);
        return;
      }
      if (result.outcome === 'permanent') {
        metrics.add('exportRequests', 1, 'permanent_error');
        drop(batch.spans, 'rejected_by_backend', result.detail);
        return;
      }
      metrics.add('exportRequests', 1, 'retryable_error');
      if (!config.retry_on_failure.enabled) {
        drop(batch.spans, 'export_failed', result.detail);
        return;
      }
      const delay = result.retryAfter ?? backoffDelay(config.retry_on_failure, retry);
      const maxElapsed = config.retry_on_failure.max_elapsed_time;
      if (maxElapsed > 0 && Date.now() + delay - started > maxElapsed) {
        drop(batch.spans, 'retry_exhausted', result.detail);
        return;
      }
      if (Date.now() + delay > stopAt) {
        drop(batch.spans, 'shutdown', `${result.detail}; shutdown deadline reached`);
        return;
      }
      await sleep(delay);
    }
  }

  const queue = new SendingQueue<EncodedBatch>(config.sending_queue, send, (batches, spans) => {
    metrics.set('queueBatches', batches);
    metrics.set('queueSpans', spans);
  });

  return {
    export(records) {
      const spans = records.length;
      const encoded = encoder.encode(records);
      const compressed =
        config.compression === 'gzip'
          ? gzipAsync(encoded, { level: constants.Z_BEST_SPEED })
          : Promise.resolve(encoded);
      const enqueued = compressed
        .then((body) => {
          if (!queue.offer({ body, spans })) drop(spans, 'queue_full', 'sending queue is full');
        })
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
      if (!done) {
        const waiting = queue.takeWaiting().reduce((sum, batch) => sum + batch.spans, 0);
        drop(waiting + queue.spansInFlight, 'shutdown', 'shutdown deadline reached');
        abandoned = true;
      }
    },
  };
}
