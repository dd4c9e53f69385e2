import type { Verdict } from '../judge/verdict.ts';
import { clientFetch } from '../lib/http-client.ts';
import { type HttpRequest, HttpSender } from '../lib/http-sender.ts';
import type { RetryConfig } from '../lib/retry.ts';
import type { ClientTlsConfig } from '../lib/tls.ts';
import type { ActionLog, ActionName } from './action-log.ts';

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

/** The sender of one action, and how to say which verdict a request is for. */
export interface ActionSender {
  readonly sender: HttpSender;
  /** Marks a request as made for `verdict`, so that its failed attempts are recorded against it. */
  readonly about: (request: HttpRequest, verdict: Verdict) => void;
}

/**
 * The one retrying sender (src/lib/http-sender.ts), for an action's requests: its retry_on_failure
 * backoff, its timeout, its TLS settings. Every failed attempt the sender may try again is recorded as
 * `retry` against the verdict its request was for, so a struggling endpoint shows before the action ends.
 */
export function actionSender(
  action: ActionName,
  config: SenderConfig,
  actions: ActionLog,
  hooks: SenderHooks = {},
): ActionSender {
  const verdicts = new WeakMap<HttpRequest, Verdict>();
  const sender = new HttpSender({
    retry: config.retry_on_failure,
    timeout: config.timeout,
    fetch: hooks.fetch ?? clientFetch({ tls: config.tls, proxy_url: '' }),
    ...(hooks.random ? { random: hooks.random } : {}),
    onAttempt: (attempt, request) => {
      const verdict = verdicts.get(request);
      if (attempt.outcome === 'ok' || attempt.outcome === 'permanent' || !verdict) return;
      if (config.retry_on_failure.enabled)
        actions.record(action, 'retry', verdict, `attempt failed: ${attempt.detail}`);
    },
  });
  return { sender, about: (request, verdict) => verdicts.set(request, verdict) };
}
