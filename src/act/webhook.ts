import { createHmac } from 'node:crypto';
import type { WebhookConfig } from '../health/config.ts';
import type { Verdict, VerdictChange } from '../judge/verdict.ts';
import type { HttpRequest, HttpSender } from '../lib/http-sender.ts';
import { JSON_TYPE } from '../lib/media-types.ts';
import type { ActionLog } from './action-log.ts';
import { actionSender, type SenderHooks } from './action-sender.ts';
import { type AlertStatus, webhookPayload } from './alertmanager.ts';
import { pairKey } from './verdict-history.ts';

export const SIGNATURE_HEADER = 'x-edge-relay-signature';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** `sha256=<hex>`: HMAC-SHA256 of the raw body with the shared secret, as GitHub's webhooks sign. */
export const signBody = (secret: string, body: Uint8Array | string): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/**
 * Sends an Alertmanager-style notice when a candidate is judged regressed, and a resolved notice when
 * that verdict clears (another state, or the judge stops tracking the pair). Notices of one pair go in
 * order (a resolved never overtakes its firing); each is retried by the sender and ends in the action log.
 */
export class WebhookNotifier {
  readonly #config: WebhookConfig;
  readonly #dryRun: boolean;
  readonly #actions: ActionLog;
  readonly #sender: HttpSender;
  readonly #now: () => number;
  /** Pairs with a firing notice out, and when their alert started. */
  readonly #firing = new Map<string, number>();
  /** The last notice of each pair, which the next one waits for. */
  readonly #chains = new Map<string, Promise<void>>();
  /** Says which verdict a request is for, for the retries the sender reports by request. */
  readonly #about: (request: HttpRequest, verdict: Verdict) => void;
  /** The receiver's host, as the action log names where a notice went. */
  readonly #host: string;

  constructor(
    config: WebhookConfig,
    dryRun: boolean,
    actions: ActionLog,
    hooks: SenderHooks & { now?: () => number } = {},
  ) {
    this.#config = config;
    this.#dryRun = dryRun;
    this.#actions = actions;
    this.#now = hooks.now ?? Date.now;
    this.#host = new URL(config.url).host;
    const { sender, about } = actionSender('webhook', config, actions, hooks);
    this.#sender = sender;
    this.#about = about;
  }

  /** Acts on one change; resolves when the notice it caused (if any) has ended, for tests and shutdown. */
  onChange({ verdict, ended }: VerdictChange): Promise<void> {
    const key = pairKey(verdict);
    const startsAt = this.#firing.get(key);
    let status: AlertStatus;
    if (startsAt === undefined && verdict.state === 'regressed' && !ended) {
      this.#firing.set(key, verdict.since);
      status = 'firing';
    } else if (startsAt !== undefined && (ended || verdict.state !== 'regressed')) {
      this.#firing.delete(key);
      status = 'resolved';
    } else {
      return this.#chains.get(key) ?? Promise.resolve();
    }
    const since = startsAt ?? verdict.since;
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.#send(verdict, status, since))
      .catch((err: unknown) => {
        this.#actions.record('webhook', 'failed', verdict, `unexpected error: ${(err as Error).message}`);
      });
    this.#chains.set(key, next);
    // Once nothing follows it, the chain of an ended pair is let go.
    void next.then(() => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
    return next;
  }

  async #send(verdict: Verdict, status: AlertStatus, startsAt: number): Promise<void> {
    const payload = webhookPayload(verdict, status, startsAt, this.#now(), {
      receiver: this.#config.receiver,
      labels: this.#config.labels,
      externalUrl: this.#config.external_url,
    });
    const fingerprint = payload.alerts[0]?.fingerprint as string;
    const what = `${status} notice (fingerprint ${fingerprint}) to ${this.#host}`;
    if (this.#dryRun) {
      this.#actions.record('webhook', 'dry_run', verdict, `would send the ${what}`);
      return;
    }
    const body = new TextEncoder().encode(JSON.stringify(payload));
    const request: HttpRequest = {
      url: this.#config.url,
      body,
      headers: {
        ...this.#config.headers,
        'content-type': JSON_TYPE,
        [SIGNATURE_HEADER]: signBody(this.#config.secret, body),
        // The same notice from any replica, or a retry, has the same key: a receiver can drop repeats.
        [IDEMPOTENCY_HEADER]: `${fingerprint}-${status}`,
      },
    };
    this.#about(request, verdict);
    const delivery = await this.#sender.deliver(request);
    if (delivery.outcome === 'delivered') {
      this.#actions.record('webhook', 'delivered', verdict, `sent the ${what}`);
    } else {
      const why = delivery.outcome === 'dropped' ? `${delivery.cause}: ${delivery.detail}` : delivery.outcome;
      this.#actions.record('webhook', 'failed', verdict, `could not send the ${what}: ${why}`);
    }
  }

  /** Shutdown: no retry past `deadline`; notices still out then end as failed. */
  async stop(deadline: number): Promise<void> {
    this.#sender.stopBy(deadline);
    await Promise.all(this.#chains.values());
  }
}
