import type { JSONWebKeySet } from 'jose';
import type { OidcConfig } from './config.ts';
import { type KeySet, keySetOf, removedNames, type SigningKeys } from './issuer-keys.ts';

/** An issuer's key set as the supervisor hands it to the receiver threads. */
export interface IssuerKeySet {
  issuer: string;
  jwks: JSONWebKeySet;
}

export interface FollowedKeysDependencies {
  /** Asks the thread that fetches the keys for them again; it answers by sending the set (`apply`). */
  ask: () => void;
  /** Called with the names of keys the issuer stopped publishing (their tokens must be checked again). */
  removed?: (names: readonly string[]) => void;
  now?: () => number;
}

/**
 * A receiver thread's view of the issuer's keys: the supervisor fetches them (one fetcher per process, so
 * the issuer sees one client whatever receiver.threads is) and sends every set it gets; a token naming a key
 * the set lacks asks it again, at most once per jwks_min_refresh_interval, and waits for its answer at most
 * `timeout`. It logs and audits nothing: the supervisor does, once.
 */
export class FollowedKeys implements SigningKeys {
  readonly #config: OidcConfig;
  readonly #deps: FollowedKeysDependencies;
  readonly #now: () => number;
  #set: KeySet | undefined;
  /** Sets are applied in the order they came (naming keys is asynchronous). */
  #applying: Promise<void> = Promise.resolve();
  #waiting: { promise: Promise<KeySet | undefined>; resolve: (set: KeySet | undefined) => void } | undefined;
  #waitTimer: NodeJS.Timeout | undefined;
  #lastAsked = Number.NEGATIVE_INFINITY;

  constructor(config: OidcConfig, deps: FollowedKeysDependencies) {
    this.#config = config;
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  get current(): KeySet | undefined {
    return this.#set;
  }

  /** Nothing to start: the keys come from the supervisor. */
  start(): void {}

  /** A set from the supervisor; one for another issuer (sent before a reload changed it) is ignored. */
  apply({ issuer, jwks }: IssuerKeySet): Promise<void> {
    if (issuer !== this.#config.issuer_url) return this.#applying;
    this.#applying = this.#applying.then(async () => {
      const set = await keySetOf(jwks, issuer);
      const removed = removedNames(this.#set, set);
      this.#set = set;
      if (removed.length > 0) this.#deps.removed?.(removed);
      this.#answered();
    });
    return this.#applying;
  }

  refreshForRequest(): Promise<KeySet | undefined> | undefined {
    if (this.#waiting) return this.#waiting.promise;
    const now = this.#now();
    if (now - this.#lastAsked < this.#config.jwks_min_refresh_interval) return undefined;
    this.#lastAsked = now;
    this.#waiting = Promise.withResolvers<KeySet | undefined>();
    this.#waitTimer = setTimeout(() => this.#answered(), this.#config.timeout).unref();
    this.#deps.ask();
    return this.#waiting.promise;
  }

  stop(): void {
    this.#answered();
  }

  #answered(): void {
    clearTimeout(this.#waitTimer);
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve(this.#set);
  }
}
