import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, parseRetryAfter, RETRYABLE_STATUS, type RetryConfig } from './retry.ts';

/** Answers that say the credentials are wrong (revoked, expired, mistyped), not the data: kept, not final. */
const UNAUTHORIZED_STATUS = new Set([401, 403]);

export interface HttpRequest {
  readonly url: string;
  /** POST unless told: a GET (an API read before a write) goes the same way, without its body. */
  readonly method?: 'GET' | 'POST';
  /** Read at each attempt when a function: credentials rotated during the retries are used at once. */
  readonly headers: Record<string, string> | (() => Record<string, string>);
  readonly body: Uint8Array;
}

/** What one POST came to: taken (with the response body), worth another try, or never to be taken. */
export type Attempt =
  | { readonly outcome: 'ok'; readonly answer: Uint8Array }
  | { readonly outcome: 'retryable'; readonly retryAfter: number | undefined; readonly detail: string }
  /** 401/403: the credentials were refused, not the data; new credentials may let it through. */
  | { readonly outcome: 'unauthorized'; readonly retryAfter: undefined; readonly detail: string }
  | { readonly outcome: 'permanent'; readonly detail: string };

/** Why a delivery gave up; each caller counts each under its own drop reason. */
export type SendFailure = 'rejected' | 'not_retried' | 'retry_exhausted' | 'shutdown';

export type Delivery =
  | { readonly outcome: 'delivered'; readonly answer: Uint8Array }
  | { readonly outcome: 'dropped'; readonly cause: SendFailure; readonly detail: string }
  /** The caller's `wanted` said no before an attempt (a peer that left the membership). */
  | { readonly outcome: 'unwanted' }
  /** The sender was abandoned: whoever abandoned it has already counted what was unsettled. */
  | { readonly outcome: 'abandoned' }
  /** The shutdown deadline came before the next retry and the caller keeps the request for the next start. */
  | { readonly outcome: 'kept' };

export interface SenderOptions {
  readonly retry: RetryConfig;
  /** Milliseconds one request may take. */
  readonly timeout: number;
  /** Told of every attempt, except one that ends after the sender was abandoned. */
  readonly onAttempt: (attempt: Attempt, request: HttpRequest) => void;
  readonly fetch?: typeof fetch;
  readonly random?: () => number;
}

export interface DeliverOptions {
  /** Asked before each attempt; false ends the delivery as `unwanted`. */
  readonly wanted?: () => boolean;
  /** At the shutdown deadline, end as `kept` rather than dropped with cause `shutdown`. */
  readonly keepAtShutdown?: boolean;
  /** After a 401/403, resolves when the credentials change: the request goes again then, not after its backoff. */
  readonly credentialsChanged?: () => Promise<void>;
}

/** One request (a POST unless `method` says GET) that may take `timeout` milliseconds; any failure to get an answer is worth retrying. */
export async function postOnce(
  request: HttpRequest,
  timeout: number,
  send: typeof fetch = fetch,
): Promise<Attempt> {
  let response: Response;
  try {
    const method = request.method ?? 'POST';
    response = await send(request.url, {
      method,
      headers: typeof request.headers === 'function' ? request.headers() : request.headers,
      body: method === 'POST' ? request.body : undefined,
      signal: AbortSignal.timeout(timeout),
    });
  } catch (err) {
    return { outcome: 'retryable', retryAfter: undefined, detail: (err as Error).message };
  }
  const answer = new Uint8Array(await response.arrayBuffer().catch(() => new ArrayBuffer(0)));
  if (response.ok) return { outcome: 'ok', answer };
  const detail = `HTTP ${response.status}`;
  if (UNAUTHORIZED_STATUS.has(response.status))
    return { outcome: 'unauthorized', retryAfter: undefined, detail };
  if (RETRYABLE_STATUS.has(response.status)) {
    return { outcome: 'retryable', retryAfter: parseRetryAfter(response.headers.get('retry-after')), detail };
  }
  return { outcome: 'permanent', detail };
}

const ABANDONED: Delivery = { outcome: 'abandoned' };
const UNWANTED: Delivery = { outcome: 'unwanted' };
const KEPT: Delivery = { outcome: 'kept' };

/**
 * The one transmission path to the backend and to peers (as Refinery's): POST with a timeout, retry
 * 429/502/503/504, 401/403 (credentials can be rotated) and network errors with the Collector's `retry_on_failure` backoff (a Retry-After
 * from the server wins), give up after max_elapsed_time or before a retry would pass the shutdown
 * deadline. It counts nothing itself: every outcome says what became of the request, so the caller
 * can account for its spans exactly.
 */
export class HttpSender {
  readonly #options: SenderOptions;
  readonly #fetch: typeof fetch;
  #stopAt = Number.POSITIVE_INFINITY;
  #abandoned = false;

  constructor(options: SenderOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
  }

  get abandoned(): boolean {
    return this.#abandoned;
  }

  /** From now on no retry is scheduled past `deadline`. */
  stopBy(deadline: number): void {
    this.#stopAt = deadline;
  }

  /** Past the shutdown deadline: deliveries still running end as `abandoned`, whatever their requests bring. */
  abandon(): void {
    this.#abandoned = true;
  }

  /** Sends one request until it is taken, refused, given up on, no longer wanted, or abandoned. */
  async deliver(request: HttpRequest, options: DeliverOptions = {}): Promise<Delivery> {
    const { retry, random } = this.#options;
    const started = Date.now();
    for (let retries = 0; ; retries++) {
      if (this.#abandoned) return ABANDONED;
      if (options.wanted && !options.wanted()) return UNWANTED;
      const result = await postOnce(request, this.#options.timeout, this.#fetch);
      if (this.#abandoned) return ABANDONED;
      this.#options.onAttempt(result, request);
      if (result.outcome === 'ok') return { outcome: 'delivered', answer: result.answer };
      if (result.outcome === 'permanent') return dropped('rejected', result.detail);
      if (!retry.enabled) return dropped('not_retried', result.detail);
      // The server's Retry-After wins over our own backoff (OTLP/HTTP spec), within max_elapsed_time.
      const delay = result.retryAfter ?? backoffDelay(retry, retries, random);
      const wakeAt = Date.now() + delay;
      if (retry.max_elapsed_time > 0 && wakeAt - started > retry.max_elapsed_time) {
        return dropped('retry_exhausted', result.detail);
      }
      if (wakeAt > this.#stopAt) {
        return options.keepAtShutdown
          ? KEPT
          : dropped('shutdown', `${result.detail}; shutdown deadline reached`);
      }
      // Kept rather than dropped on a 401/403: a rotated token lets the request through as soon as it arrives.
      const changed = result.outcome === 'unauthorized' ? options.credentialsChanged?.() : undefined;
      await (changed ? Promise.race([sleep(delay), changed]) : sleep(delay));
    }
  }
}

function dropped(cause: SendFailure, detail: string): Delivery {
  return { outcome: 'dropped', cause, detail };
}
