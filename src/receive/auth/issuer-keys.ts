import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { isLoopbackHost } from '../../lib/loopback.ts';
import { isHttpUrl } from '../../lib/schema-keywords.ts';
import { readPem } from '../../lib/tls.ts';
import type { AuditSink } from '../../telemetry/audit-log.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { OidcConfig } from './config.ts';

/** The issuer's signing keys as last fetched. */
export interface KeySet {
  /** The public keys as published (those of them fit to verify with): what receiver threads are sent. */
  readonly jwks: JSONWebKeySet;
  readonly resolve: JWTVerifyGetKey;
  /** The `kid`s of the set: a token naming another one asks for the set again. */
  readonly kids: ReadonlySet<string>;
  /** Each key's kid, or `jkt:<thumbprint>` for one without: what rotations are audited by. */
  readonly names: readonly string[];
}

/**
 * Where a verifier gets the issuer's keys: fetched here (IssuerKeys), or from the thread that fetches them
 * for every receiver thread (followed-keys.ts).
 */
export interface SigningKeys {
  readonly current: KeySet | undefined;
  start(): void;
  /**
   * The set after asking for it again for a request (a kid the set lacks, or no set yet): shares a request
   * under way; undefined when one was asked for too recently.
   */
  refreshForRequest(): Promise<KeySet | undefined> | undefined;
  stop(): void;
}

export type IssuerFetch = (url: string, init: { signal: AbortSignal }) => Promise<Response>;

export interface IssuerDependencies {
  log: Logger;
  audit: AuditSink;
  now?: () => number;
  /** How documents are fetched; by default over undici with issuer_ca_path. */
  fetch?: IssuerFetch;
  /** Called with the names of keys the issuer stopped publishing (their tokens must be checked again). */
  removed?: (names: readonly string[]) => void;
  /** Called with every set fetched, changed or not (the supervisor hands it to the receiver threads). */
  loaded?: (set: KeySet) => void;
}

/** A discovery document or a key set larger than this is refused rather than read into memory. */
const MAX_DOCUMENT_BYTES = 1 << 20;
/** A failed fetch is tried again after this long at least, when jwks_min_refresh_interval is shorter. */
const MIN_RETRY_MS = 1000;
/** Key types an asymmetric JWS algorithm uses; a symmetric (`oct`) key has no place in a public set. */
const PUBLIC_KEY_TYPES = new Set(['RSA', 'EC', 'OKP']);

/**
 * Fetches the issuer's documents over TLS trusting issuer_ca_path (alone, as the Collector does) when
 * set. The CA is read at the first fetch: a file that cannot be read fails that fetch (logged, and
 * retried), never the reload that named it.
 */
export function issuerFetch(config: OidcConfig): IssuerFetch {
  let agent: Agent | undefined;
  return (url, init) => {
    if (agent === undefined) {
      const ca = readPem('', config.issuer_ca_path);
      agent = new Agent({
        connect: { timeout: config.timeout, ...(ca === undefined ? {} : { ca }) },
        maxResponseSize: MAX_DOCUMENT_BYTES,
      });
    }
    return undiciFetch(url, { ...init, dispatcher: agent }) as unknown as Promise<Response>;
  };
}

const keyName = async (jwk: JWK): Promise<string> =>
  typeof jwk.kid === 'string' ? jwk.kid : `jkt:${await calculateJwkThumbprint(jwk)}`;

/** The keys of a JSON Web Key Set fit to verify with (public, asymmetric), ready for jose. */
export async function keySetOf(jwks: unknown, source: string): Promise<KeySet> {
  const listed = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(listed)) throw new Error(`${source} is not a JSON Web Key Set`);
  const keys = (listed as JWK[]).filter(
    (jwk) =>
      jwk !== null && typeof jwk === 'object' && PUBLIC_KEY_TYPES.has(jwk.kty as string) && !('d' in jwk),
  );
  const set: JSONWebKeySet = { keys };
  return {
    jwks: set,
    resolve: createLocalJWKSet(set),
    kids: new Set(keys.flatMap((jwk) => (typeof jwk.kid === 'string' ? [jwk.kid] : []))),
    names: await Promise.all(keys.map(keyName)),
  };
}

/** The names of keys `before` had and `after` lacks. */
export const removedNames = (before: KeySet | undefined, after: KeySet): string[] =>
  (before?.names ?? []).filter((name) => !after.names.includes(name));

/**
 * An OIDC issuer's signing keys, discovered from `issuer_url` (`/.well-known/openid-configuration` →
 * `jwks_uri`) and kept in memory. The set is fetched at start, every jwks_refresh_interval, and when a
 * token names a key id the set lacks (at most once per jwks_min_refresh_interval: clients without a
 * valid token must not be able to make the relay hammer the issuer). There is never more than one fetch
 * under way; requests that need it share it, and requests that do not (a known key) never wait for it.
 * A changed set is logged and audited by key id; key material never is.
 */
export class IssuerKeys implements SigningKeys {
  readonly #config: OidcConfig;
  readonly #deps: IssuerDependencies;
  readonly #now: () => number;
  readonly #fetch: IssuerFetch;
  #set: KeySet | undefined;
  #jwksUri: string | undefined;
  #fetching: Promise<KeySet | undefined> | undefined;
  #lastAsked = Number.NEGATIVE_INFINITY;
  #failing = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(config: OidcConfig, deps: IssuerDependencies) {
    this.#config = config;
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#fetch = deps.fetch ?? issuerFetch(config);
  }

  get current(): KeySet | undefined {
    return this.#set;
  }

  /** Fetches the keys for the first time; requests before it is done wait for it. */
  start(): void {
    const { hostname, protocol } = new URL(this.#config.issuer_url);
    if (protocol === 'http:' && !isLoopbackHost(hostname)) {
      this.#deps.log.warn(
        { issuer: this.#config.issuer_url },
        "issuer_url is plain http: whoever is on the path can replace the issuer's keys (use https)",
      );
    }
    void this.#refresh('start');
  }

  refreshForRequest(): Promise<KeySet | undefined> | undefined {
    if (this.#fetching) return this.#fetching;
    const now = this.#now();
    if (now - this.#lastAsked < this.#config.jwks_min_refresh_interval) return undefined;
    this.#lastAsked = now;
    return this.#refresh('request');
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #refresh(trigger: 'start' | 'interval' | 'request'): Promise<KeySet | undefined> {
    this.#fetching ??= this.#load()
      .then(
        (set) => {
          this.#changed(set, trigger);
          this.#set = set;
          this.#deps.loaded?.(set);
          return set;
        },
        (error: unknown) => {
          // The next attempt starts from discovery: the issuer may have moved its keys.
          this.#jwksUri = undefined;
          if (!this.#failing) {
            this.#deps.log.warn(
              { issuer: this.#config.issuer_url, error: (error as Error).message, keys: this.#set?.names },
              this.#set
                ? "cannot fetch the OIDC issuer's keys; the keys fetched before stay in use"
                : "cannot fetch the OIDC issuer's keys; its tokens are refused with 503 until they can be",
            );
          }
          this.#failing = true;
          return this.#set;
        },
      )
      .finally(() => {
        this.#fetching = undefined;
        this.#schedule();
      });
    return this.#fetching;
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    const { jwks_refresh_interval: interval, jwks_min_refresh_interval: min } = this.#config;
    const delay = this.#failing ? Math.max(min, MIN_RETRY_MS) : interval;
    if (delay > 0) this.#timer = setTimeout(() => void this.#refresh('interval'), delay).unref();
  }

  #changed(set: KeySet, trigger: string): void {
    const { log, audit, removed: onRemoved } = this.#deps;
    const issuer = this.#config.issuer_url;
    if (this.#failing) log.info({ issuer }, "the OIDC issuer's keys can be fetched again");
    this.#failing = false;
    const before = this.#set?.names;
    if (before === undefined) {
      log.info({ issuer, kids: set.names }, "the OIDC issuer's keys are loaded");
      audit.record('oidc.keys_loaded', { issuer, kids: set.names });
      return;
    }
    const added = set.names.filter((name) => !before.includes(name));
    const removed = removedNames(this.#set, set);
    if (added.length + removed.length === 0) return;
    log.info({ issuer, added, removed, trigger }, "the OIDC issuer's keys changed");
    audit.record('oidc.keys_rotated', { issuer, trigger, added, removed, kids: set.names });
    if (removed.length > 0) onRemoved?.(removed);
  }

  async #load(): Promise<KeySet> {
    this.#jwksUri ??= await this.#discover();
    return keySetOf(await this.#json(this.#jwksUri), this.#jwksUri);
  }

  async #discover(): Promise<string> {
    const issuer = this.#config.issuer_url;
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const document = (await this.#json(url)) as { issuer?: unknown; jwks_uri?: unknown };
    // OpenID Connect Discovery 1.0 §4.3: the document must name exactly the issuer it was fetched for.
    if (document.issuer !== issuer)
      throw new Error(`${url} names the issuer ${JSON.stringify(document.issuer)}, not issuer_url`);
    const { jwks_uri: jwksUri } = document;
    if (typeof jwksUri !== 'string' || jwksUri === '' || !isHttpUrl(jwksUri))
      throw new Error(`${url} has no http(s) jwks_uri`);
    return jwksUri;
  }

  async #json(url: string): Promise<unknown> {
    const response = await this.#fetch(url, { signal: AbortSignal.timeout(this.#config.timeout) });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`${url} answered ${response.status}`);
    }
    return response.json();
  }
}
