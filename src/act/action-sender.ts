import { clientFetch } from '../lib/http-client.ts';
import { type Attempt, type HttpRequest, HttpSender } from '../lib/http-sender.ts';
import type { RetryConfig } from '../lib/retry.ts';
import type { ClientTlsConfig } from '../lib/tls.ts';

/** What an action's requests need of its config block. */
export interface SenderConfig {
  readonly timeout: number;
  readonly retry_on_failure: RetryConfig;
  readonly tls: ClientTlsConfig;
}

export interface SenderHooks {
  /** Replaces the network (tests); the config's TLS settings apply otherwise. */
  readonly fetch?: typeof fetch;
  readonly random?: () => number;
}

/**
 * The one retrying sender (src/lib/http-sender.ts), for an action's requests: its retry_on_failure
 * backoff, its timeout, its TLS settings. `onRetry` hears of every failed attempt that will be tried
 * again, with the request it was, so the action can say which verdict is waiting.
 */
export function actionSender(
  config: SenderConfig,
  onRetry: (attempt: Attempt, request: HttpRequest) => void,
  hooks: SenderHooks = {},
): HttpSender {
  return new HttpSender({
    retry: config.retry_on_failure,
    timeout: config.timeout,
    fetch: hooks.fetch ?? clientFetch({ tls: config.tls, proxy_url: '' }),
    ...(hooks.random ? { random: hooks.random } : {}),
    onAttempt: (attempt, request) => {
      if (attempt.outcome !== 'ok' && attempt.outcome !== 'permanent' && config.retry_on_failure.enabled) {
        onRetry(attempt, request);
      }
    },
  });
}

/** "HTTP 503", "connect ECONNREFUSED …": what an attempt that got no answer was told. */
export const attemptDetail = (attempt: Attempt): string => (attempt.outcome === 'ok' ? 'ok' : attempt.detail);
