import { clientFetch } from '../lib/http-client.ts';
import { HttpSender, type SendFailure } from '../lib/http-sender.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { DropReason, SharedMetricsWriter } from '../telemetry/shared-metrics.ts';
import type { BatchStore, QueuedBatch } from './batch-store.ts';
import { bodyHeaders, formatOf } from './body-format.ts';
import { type ExporterConfig, tracesUrl } from './config.ts';
import type { ExportCredentials } from './credentials.ts';
import { readPartialSuccess, rejectedOf } from './export-response.ts';
import type { HeldSpans } from './held-spans.ts';

const DROP_REASON: Record<SendFailure, DropReason> = {
  rejected: 'rejected_by_backend',
  not_retried: 'export_failed',
  retry_exhausted: 'retry_exhausted',
  shutdown: 'shutdown',
};

/**
 * Sends queued batches to the OTLP/HTTP endpoint, one at a time per call, until each is settled:
 * exported (less what `partial_success` rejected), dropped with a reason, or left in storage when
 * the shutdown deadline comes before the backend takes it.
 */
export class BatchDelivery {
  readonly #url: string;
  readonly #credentials: ExportCredentials;
  readonly #log: Logger;
  readonly #store: BatchStore;
  readonly #held: HeldSpans;
  readonly #metrics: SharedMetricsWriter;
  readonly #sender: HttpSender;
  // Once one batch stays in storage at shutdown, the backend is failing: the rest stays there too.
  #keepRest = false;

  readonly #onSettled: (batch: QueuedBatch) => void;

  /** `onSettled` hears of each batch once it is delivered or dropped (not of corrupt or kept ones). */
  constructor(
    config: ExporterConfig,
    store: BatchStore,
    held: HeldSpans,
    metrics: SharedMetricsWriter,
    log: Logger,
    credentials: ExportCredentials,
    onSettled: (batch: QueuedBatch) => void = () => {},
  ) {
    this.#onSettled = onSettled;
    this.#url = tracesUrl(config);
    this.#credentials = credentials;
    this.#log = log;
    this.#store = store;
    this.#held = held;
    this.#metrics = metrics;
    this.#sender = new HttpSender({
      retry: config.retry_on_failure,
      timeout: config.timeout,
      fetch: clientFetch(config),
      onAttempt: (attempt, request) => {
        metrics.add('exportedBytes', request.body.length);
        if (attempt.outcome === 'retryable') metrics.add('exportRequests', 1, 'retryable_error');
        if (attempt.outcome === 'permanent') metrics.add('exportRequests', 1, 'permanent_error');
        if (attempt.outcome === 'unauthorized') {
          metrics.add('exportRequests', 1, 'unauthorized');
          credentials.refused(attempt.detail);
        }
        if (attempt.outcome === 'ok') credentials.accepted();
      },
    });
  }

  /** From now on no retry is scheduled past `deadline`. */
  stopBy(deadline: number): void {
    this.#sender.stopBy(deadline);
  }

  /** At the shutdown deadline, once the exporter has counted what is unsettled: nothing more is counted. */
  abandon(): void {
    this.#sender.abandon();
  }

  async send(batch: QueuedBatch): Promise<void> {
    if (this.#sender.abandoned || this.#keepRest) return;
    const body = this.#store.load(batch);
    if (!(body instanceof Uint8Array)) {
      this.#held.corrupt(batch.spans, body.problem);
      this.#store.release(batch);
      return;
    }
    const delivery = await this.#sender.deliver(
      // Per batch, not per config: a batch replayed from disk keeps the format it was stored in.
      { url: this.#url, headers: () => bodyHeaders(formatOf(batch.format), this.#credentials.headers), body },
      { keepAtShutdown: this.#store.persistent, credentialsChanged: () => this.#credentials.changed() },
    );
    switch (delivery.outcome) {
      case 'delivered':
        this.#exported(batch.spans, delivery.answer);
        break;
      case 'dropped':
        this.#held.drop(batch.spans, DROP_REASON[delivery.cause], delivery.detail);
        break;
      case 'kept':
        this.#keepRest = true;
        return;
      // abandoned: counted at the shutdown deadline (dropped, or left on disk); unwanted: never asked.
      default:
        return;
    }
    this.#store.release(batch);
    this.#onSettled(batch);
  }

  #exported(spans: number, answer: Uint8Array): void {
    const partial = readPartialSuccess(answer);
    const { rejected, lie } = rejectedOf(partial?.rejectedSpans ?? 0, spans);
    if (lie) {
      this.#metrics.add('exportPartialSuccessInvalid', 1);
      this.#log.warn(
        { claimed: partial?.rejectedSpans, spans },
        'backend claimed an impossible rejected_spans',
      );
    }
    this.#metrics.add('exportRequests', 1, rejected > 0 ? 'partial_success' : 'success');
    this.#held.exported(spans - rejected);
    if (rejected > 0) this.#held.drop(rejected, 'rejected_by_backend', partial?.errorMessage ?? '');
  }
}
