import { createHash, timingSafeEqual } from 'node:crypto';
import type { Registry } from 'prom-client';
import { type AuditSink, NO_AUDIT } from '../telemetry/audit-log.ts';
import { registerCollected } from '../telemetry/collected-metric.ts';
import type { Logger } from '../telemetry/logger.ts';
import { AuthFailures } from './auth-failures.ts';
import { AuthUsage, TOKEN_RESULTS } from './auth-usage.ts';
import type { AuthConfig, TokenConfig } from './config.ts';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** How a request's credentials fared: the values of edge_relay_auth_requests_total{result}. */
export type AuthResult = 'accepted' | 'expired' | 'not_yet_valid' | 'invalid' | 'missing';

type Phase = 'pending' | 'active' | 'expired';

interface Token {
  readonly id: string;
  readonly value: string;
  readonly digest: Buffer;
  readonly notBefore: number;
  readonly notAfter: number;
  /** Its id's counts in shared memory (auth-usage.ts); kept across reloads and removal. */
  readonly slot: number;
  phase: Phase | undefined;
  warned: boolean;
  /** This thread has seen it accepted, so its first use is recorded (here or by another receiver). */
  used: boolean;
}

/** The check the receiver runs on every request, before the body is read. */
export interface Authenticator {
  authenticate(header: string | undefined, peer: string, forwardedFor: string | undefined): boolean;
}

export interface AuthDependencies {
  /** Where the auth metrics are served; absent in a receiver thread (the main thread serves its counts). */
  registry?: Registry;
  clientIp: (peer: string, forwardedFor: string | undefined) => string;
  log: Logger;
  audit?: AuditSink;
  now?: () => number;
  /** This receiver's counts of token use, in shared memory; by default those of a lone receiver. */
  usage?: AuthUsage;
  /**
   * A receiver thread's check: it checks and counts requests and records what only it sees (a token's
   * first use, failures), while the main thread's ReceiverAuth, updated with the same configs, logs and
   * audits token changes and windows, keeps the peer token and serves the metrics.
   */
  mirror?: boolean;
}

/** Longest a timer may be set for in Node; later instants are reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const iso = (ms: number): string | undefined =>
  Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
const sameWindow = (a: Token, b: Token): boolean => a.notBefore === b.notBefore && a.notAfter === b.notAfter;

/**
 * Bearer tokens for `Authorization: Bearer <token>`, each with an id and a validity window. Every token is
 * compared, in constant time over fixed-length digests, so timing says nothing about which token, or how
 * much of one, matched; the window is checked after the match. With no tokens configured every request is
 * let in. A reload swaps the whole table in one assignment, so a request sees either the old tokens or
 * the new ones. Use is counted per token id (never per value) for /metrics and the audit log, in shared
 * memory (auth-usage.ts), so that what several receiver threads count adds up on the main thread.
 */
export class ReceiverAuth implements Authenticator {
  #tokens: readonly Token[] = [];
  #warnBefore = 0;
  readonly #usage: AuthUsage;
  readonly #mirror: boolean;
  readonly #failures: AuthFailures;
  readonly #clientIp: AuthDependencies['clientIp'];
  readonly #log: Logger;
  readonly #audit: AuditSink;
  readonly #now: () => number;
  readonly #listeners: (() => void)[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(config: AuthConfig, deps: AuthDependencies) {
    this.#clientIp = deps.clientIp;
    this.#log = deps.log;
    this.#audit = deps.audit ?? NO_AUDIT;
    this.#now = deps.now ?? Date.now;
    this.#usage = deps.usage ?? AuthUsage.alone();
    this.#mirror = deps.mirror ?? false;
    this.#failures = new AuthFailures(this.#audit, this.#now);
    if (deps.registry) this.#register(deps.registry);
    this.#tokens = this.#build(config);
    this.#warnBefore = config.warn_before_expiry;
    if (!this.#mirror) this.#review();
  }

  authenticate(header: string | undefined, peer: string, forwardedFor: string | undefined): boolean {
    const tokens = this.#tokens;
    if (tokens.length === 0) return true;
    const result = this.#check(tokens, header);
    if (result === 'accepted') return true;
    this.#failures.add(this.#clientIp(peer, forwardedFor), result);
    return false;
  }

  #check(tokens: readonly Token[], header: string | undefined): AuthResult {
    // The scheme is case-insensitive (RFC 9110 §11.1): "bearer" and "BEARER" are Bearer too.
    if (header === undefined || !/^bearer /i.test(header)) {
      this.#usage.unmatched('missing');
      return 'missing';
    }
    const given = digest(header.slice(7).trim());
    let matched: Token | undefined;
    for (const token of tokens) if (timingSafeEqual(token.digest, given)) matched = token;
    if (matched === undefined) {
      this.#usage.unmatched('invalid');
      return 'invalid';
    }
    const now = this.#now();
    const result =
      now < matched.notBefore ? 'not_yet_valid' : now >= matched.notAfter ? 'expired' : 'accepted';
    this.#usage.count(matched.slot, result, now);
    if (result === 'accepted' && !matched.used) {
      matched.used = true;
      if (this.#usage.claimFirstUse(matched.slot)) {
        this.#audit.record('token.first_use', { token_id: matched.id });
      }
    }
    return result;
  }

  /** Applies reloaded `receiver.auth`: tokens added, removed or changed are logged and audited by id. */
  update(config: AuthConfig): void {
    const before = new Map(this.#tokens.map((token) => [token.id, token]));
    const next = this.#build(config).map((token) => {
      const old = before.get(token.id);
      // An unchanged token keeps its state, so that a reload does not warn or announce it again.
      return old?.digest.equals(token.digest) && sameWindow(old, token) ? old : token;
    });
    if (this.#mirror) {
      this.#tokens = next;
      return;
    }
    const added: string[] = [];
    const changed: string[] = [];
    for (const token of next) {
      const old = before.get(token.id);
      before.delete(token.id);
      if (old === token) continue;
      const window = { not_before: iso(token.notBefore), not_after: iso(token.notAfter) };
      if (old === undefined) {
        added.push(token.id);
        this.#audit.record('token.added', { token_id: token.id, ...window });
      } else {
        changed.push(token.id);
        this.#audit.record('token.changed', {
          token_id: token.id,
          value_changed: !old.digest.equals(token.digest),
          window_changed: !sameWindow(old, token),
          ...window,
        });
      }
    }
    for (const old of before.values()) {
      this.#audit.record('token.removed', { token_id: old.id });
      this.#lastUse(old);
    }
    this.#tokens = next;
    this.#warnBefore = config.warn_before_expiry;
    if (added.length + changed.length + before.size > 0) {
      this.#log.info({ added, changed, removed: [...before.keys()] }, 'receiver tokens updated');
    }
    this.#review();
    this.#notify();
  }

  /**
   * The token this replica presents to its peers: the first in the list that is valid now. Peers reload
   * a rotated Secret at different moments, so the older token (listed first) is kept while it lasts.
   */
  peerToken(): string | undefined {
    const now = this.#now();
    return this.#tokens.find((token) => now >= token.notBefore && now < token.notAfter)?.value;
  }

  /** Called whenever the set of tokens valid now changes: a reload, a window opening or closing. */
  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** Shutdown: records the minute's failures and the last use of each token still valid (expiry recorded the others). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#failures.flush();
    if (this.#mirror) return;
    for (const token of this.#tokens) if (token.phase !== 'expired') this.#lastUse(token);
  }

  #build(config: AuthConfig): Token[] {
    return config.tokens.map((token: TokenConfig) => {
      return {
        id: token.id,
        value: token.value,
        digest: digest(token.value),
        notBefore: token.not_before ? Date.parse(token.not_before) : Number.NEGATIVE_INFINITY,
        notAfter: token.not_after ? Date.parse(token.not_after) : Number.POSITIVE_INFINITY,
        slot: this.#usage.slot(token.id),
        phase: undefined,
        warned: false,
        used: false,
      };
    });
  }

  #lastUse(token: Token): void {
    const lastUsed = this.#usage.lastUsed(token.slot);
    if (lastUsed === 0) return;
    this.#audit.record('token.last_use', {
      token_id: token.id,
      last_used: iso(lastUsed),
      accepted: this.#usage.total(token.slot, 'accepted'),
    });
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }

  /**
   * Logs (and audits) what the clock has done to the windows since the last look: a token that became
   * valid, one about to expire, one expired. The request path checks windows itself; this only tells
   * people, and sets a timer for the next such instant.
   */
  #review(): void {
    clearTimeout(this.#timer);
    const now = this.#now();
    let validChanged = false;
    let next = Number.POSITIVE_INFINITY;
    for (const token of this.#tokens) {
      const phase: Phase = now < token.notBefore ? 'pending' : now < token.notAfter ? 'active' : 'expired';
      const window = { token_id: token.id, not_before: iso(token.notBefore), not_after: iso(token.notAfter) };
      if (phase !== token.phase) {
        if (phase === 'active' && token.phase === 'pending') {
          this.#log.info(window, 'receiver token valid from now');
          this.#audit.record('token.activated', window);
        }
        if (phase === 'expired') {
          this.#log.warn(window, 'receiver token expired: requests carrying it are refused');
          this.#audit.record('token.expired', window);
          this.#lastUse(token);
        }
        validChanged ||= token.phase !== undefined;
        token.phase = phase;
      }
      const warnAt = token.notAfter - this.#warnBefore;
      if (phase === 'active' && !token.warned && now >= warnAt) {
        token.warned = true;
        const inSeconds = Math.round((token.notAfter - now) / 1000);
        this.#log.warn(
          { ...window, expires_in_s: inSeconds },
          'receiver token expires soon: add its successor',
        );
      }
      if (phase === 'pending') next = Math.min(next, token.notBefore);
      if (phase === 'active') next = Math.min(next, token.notAfter, token.warned ? Infinity : warnAt);
    }
    if (validChanged) this.#notify();
    if (Number.isFinite(next)) {
      // A millisecond past the instant, so that the window has really moved when the timer fires.
      const delay = Math.min(Math.max(0, next - now + 1), MAX_TIMER_MS);
      this.#timer = setTimeout(() => this.#review(), delay).unref();
    }
  }

  #register(registry: Registry): void {
    const usage = this.#usage;
    registerCollected(
      registry,
      {
        name: 'edge_relay_auth_requests_total',
        help: 'Requests checked against receiver.auth tokens, by token id and result (token_id is empty when no token matched)',
        type: 'counter',
      },
      () => [
        ...usage.ids().flatMap(([id, slot]) =>
          TOKEN_RESULTS.map((result) => ({
            labels: { token_id: id, result },
            value: usage.total(slot, result),
          })),
        ),
        { labels: { token_id: '', result: 'invalid' }, value: usage.unmatchedTotal('invalid') },
        { labels: { token_id: '', result: 'missing' }, value: usage.unmatchedTotal('missing') },
      ],
    );
    registerCollected(
      registry,
      {
        name: 'edge_relay_auth_token_last_used_timestamp_seconds',
        help: 'When each receiver.auth token was last accepted, in Unix seconds (0: not in this process)',
        type: 'gauge',
      },
      () =>
        usage.ids().map(([id, slot]) => ({ labels: { token_id: id }, value: usage.lastUsed(slot) / 1000 })),
    );
    registerCollected(
      registry,
      {
        name: 'edge_relay_auth_token_not_after_timestamp_seconds',
        help: 'When each configured receiver.auth token with a not_after stops being accepted, in Unix seconds',
        type: 'gauge',
      },
      () =>
        this.#tokens
          .filter((token) => Number.isFinite(token.notAfter))
          .map((token) => ({ labels: { token_id: token.id }, value: token.notAfter / 1000 })),
    );
  }
}
