import { createHash } from 'node:crypto';
import type { AuditSink } from '../../telemetry/audit-log.ts';
import type { Logger } from '../../telemetry/logger.ts';

export const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** How a request's credential fared: the values of edge_relay_auth_requests_total{result}. */
export type AuthResult =
  | 'accepted'
  | 'expired'
  | 'not_yet_valid'
  | 'invalid'
  | 'unknown_key'
  | 'unavailable'
  | 'missing';

/** What this process has seen of one credential id; kept across reloads and removal, as counters only grow. */
export interface Usage {
  counts: Partial<Record<AuthResult, number>>;
  /** Epoch ms of the first and the last accepted request; 0: none yet. */
  firstUsed: number;
  lastUsed: number;
}

export const newUsage = (): Usage => ({ counts: {}, firstUsed: 0, lastUsed: 0 });

type Phase = 'pending' | 'active' | 'expired';

/** One configured secret with an id and a validity window: a bearer token, or a beacon signing key. */
export interface Credential {
  readonly id: string;
  readonly value: string;
  /** SHA-256 of the value: what bearer tokens are compared by, and how a changed value is noticed. */
  readonly digest: Buffer;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly usage: Usage;
  phase: Phase | undefined;
  warned: boolean;
}

/** How one kind of credential is named in the audit log and the log. */
export interface CredentialKind {
  /** Audit events are `<event>.added`, `<event>.expired`, …; their id field is `<event>_id`. */
  readonly event: 'token' | 'beacon_key';
  /** The log's name for one: `receiver token`. */
  readonly noun: string;
  /** What a request with an expired one gets told in the log. */
  readonly refused: string;
}

export interface CredentialEntry {
  id: string;
  value: string;
  not_before?: string | undefined;
  not_after?: string | undefined;
}

export interface TableDependencies {
  log: Logger;
  audit: AuditSink;
  now: () => number;
  /** Usage by id, shared by every table (ids are unique across them) and kept for /metrics. */
  usage: Map<string, Usage>;
}

/** Longest a timer may be set for in Node; later instants are reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const iso = (ms: number): string | undefined =>
  Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
const sameWindow = (a: Credential, b: Credential): boolean =>
  a.notBefore === b.notBefore && a.notAfter === b.notAfter;

/**
 * The credentials of one kind, each with an id and a window. A reload swaps the whole list in one
 * assignment, so a request sees either the old credentials or the new ones; what changed is logged and
 * audited by id (never by value), and the clock's effect on the windows (valid from now, expiring soon,
 * expired) is logged and audited as it happens. Use is counted per id.
 */
export class CredentialTable {
  #entries: readonly Credential[] = [];
  #byId = new Map<string, Credential>();
  #warnBefore = 0;
  readonly #kind: CredentialKind;
  readonly #deps: TableDependencies;
  readonly #listeners: ((changed: readonly string[]) => void)[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    kind: CredentialKind,
    entries: readonly CredentialEntry[],
    warnBefore: number,
    deps: TableDependencies,
  ) {
    this.#kind = kind;
    this.#deps = deps;
    this.#set(this.#build(entries), warnBefore);
  }

  get entries(): readonly Credential[] {
    return this.#entries;
  }

  find(id: string): Credential | undefined {
    return this.#byId.get(id);
  }

  /** Whether a credential is inside its window now. */
  windowResult(credential: Credential, now: number): 'accepted' | 'expired' | 'not_yet_valid' {
    return now < credential.notBefore ? 'not_yet_valid' : now >= credential.notAfter ? 'expired' : 'accepted';
  }

  /** Counts one request that carried this credential; the first accepted one is audited. */
  count(credential: Credential, result: AuthResult, now: number): void {
    const usage = credential.usage;
    usage.counts[result] = (usage.counts[result] ?? 0) + 1;
    if (result !== 'accepted') return;
    usage.lastUsed = now;
    if (usage.firstUsed === 0) {
      usage.firstUsed = now;
      this.#deps.audit.record(`${this.#kind.event}.first_use`, { [this.#idField]: credential.id });
    }
  }

  /**
   * Called with the ids whose value or window changed, or that were removed, after a reload; and with
   * no ids when the clock opened or closed a window.
   */
  onChange(listener: (changed: readonly string[]) => void): void {
    this.#listeners.push(listener);
  }

  /** Applies a reloaded list: credentials added, removed or changed are logged and audited by id. */
  update(entries: readonly CredentialEntry[], warnBefore: number): void {
    const { audit, log } = this.#deps;
    const event = this.#kind.event;
    const before = new Map(this.#byId);
    const next = this.#build(entries).map((credential) => {
      const old = before.get(credential.id);
      // An unchanged credential keeps its state, so that a reload does not warn or announce it again.
      return old?.digest.equals(credential.digest) && sameWindow(old, credential) ? old : credential;
    });
    const added: string[] = [];
    const changed: string[] = [];
    for (const credential of next) {
      const old = before.get(credential.id);
      before.delete(credential.id);
      if (old === credential) continue;
      const window = { not_before: iso(credential.notBefore), not_after: iso(credential.notAfter) };
      if (old === undefined) {
        added.push(credential.id);
        audit.record(`${event}.added`, { [this.#idField]: credential.id, ...window });
      } else {
        changed.push(credential.id);
        audit.record(`${event}.changed`, {
          [this.#idField]: credential.id,
          value_changed: !old.digest.equals(credential.digest),
          window_changed: !sameWindow(old, credential),
          ...window,
        });
      }
    }
    for (const old of before.values()) {
      audit.record(`${event}.removed`, { [this.#idField]: old.id });
      this.#lastUse(old);
    }
    const removed = [...before.keys()];
    this.#set(next, warnBefore);
    if (added.length + changed.length + removed.length > 0) {
      log.info({ added, changed, removed }, `${this.#kind.noun}s updated`);
    }
    this.#notify([...changed, ...removed]);
  }

  /** Shutdown: the last use of each credential still valid (expiry recorded the others). */
  stop(): void {
    clearTimeout(this.#timer);
    for (const credential of this.#entries) if (credential.phase !== 'expired') this.#lastUse(credential);
  }

  get #idField(): string {
    return `${this.#kind.event}_id`;
  }

  #set(entries: readonly Credential[], warnBefore: number): void {
    this.#entries = entries;
    this.#byId = new Map(entries.map((credential) => [credential.id, credential]));
    this.#warnBefore = warnBefore;
    this.#review();
  }

  #build(entries: readonly CredentialEntry[]): Credential[] {
    const { usage } = this.#deps;
    return entries.map((entry) => {
      let used = usage.get(entry.id);
      if (!used) {
        used = newUsage();
        usage.set(entry.id, used);
      }
      return {
        id: entry.id,
        value: entry.value,
        digest: digest(entry.value),
        notBefore: entry.not_before ? Date.parse(entry.not_before) : Number.NEGATIVE_INFINITY,
        notAfter: entry.not_after ? Date.parse(entry.not_after) : Number.POSITIVE_INFINITY,
        usage: used,
        phase: undefined,
        warned: false,
      };
    });
  }

  #lastUse(credential: Credential): void {
    const { lastUsed, counts } = credential.usage;
    if (lastUsed === 0) return;
    this.#deps.audit.record(`${this.#kind.event}.last_use`, {
      [this.#idField]: credential.id,
      last_used: iso(lastUsed),
      accepted: counts.accepted ?? 0,
    });
  }

  #notify(changed: readonly string[]): void {
    for (const listener of this.#listeners) listener(changed);
  }

  /**
   * Logs (and audits) what the clock has done to the windows since the last look: a credential that
   * became valid, one about to expire, one expired. The request path checks windows itself; this only
   * tells people, and sets a timer for the next such instant.
   */
  #review(): void {
    clearTimeout(this.#timer);
    const { audit, log } = this.#deps;
    const { event, noun, refused } = this.#kind;
    const now = this.#deps.now();
    let validChanged = false;
    let next = Number.POSITIVE_INFINITY;
    for (const credential of this.#entries) {
      const phase: Phase =
        now < credential.notBefore ? 'pending' : now < credential.notAfter ? 'active' : 'expired';
      const window = {
        [this.#idField]: credential.id,
        not_before: iso(credential.notBefore),
        not_after: iso(credential.notAfter),
      };
      if (phase !== credential.phase) {
        if (phase === 'active' && credential.phase === 'pending') {
          log.info(window, `${noun} valid from now`);
          audit.record(`${event}.activated`, window);
        }
        if (phase === 'expired') {
          log.warn(window, `${noun} expired: ${refused}`);
          audit.record(`${event}.expired`, window);
          this.#lastUse(credential);
        }
        validChanged ||= credential.phase !== undefined;
        credential.phase = phase;
      }
      const warnAt = credential.notAfter - this.#warnBefore;
      if (phase === 'active' && !credential.warned && now >= warnAt) {
        credential.warned = true;
        const inSeconds = Math.round((credential.notAfter - now) / 1000);
        log.warn({ ...window, expires_in_s: inSeconds }, `${noun} expires soon: add its successor`);
      }
      if (phase === 'pending') next = Math.min(next, credential.notBefore);
      if (phase === 'active')
        next = Math.min(next, credential.notAfter, credential.warned ? Infinity : warnAt);
    }
    if (validChanged) this.#notify([]);
    if (Number.isFinite(next)) {
      // A millisecond past the instant, so that the window has really moved when the timer fires.
      const delay = Math.min(Math.max(0, next - now + 1), MAX_TIMER_MS);
      this.#timer = setTimeout(() => this.#review(), delay).unref();
    }
  }
}
