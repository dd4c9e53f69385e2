import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { decodeProtectedHeader } from 'jose';
import type { Registry } from 'prom-client';
import { canonicalJson } from '../../lib/digest.ts';
import { authUnavailable, type RequestError, unauthorized } from '../../lib/errors.ts';
import { type AuditSink, NO_AUDIT } from '../../telemetry/audit-log.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { AuthFailures } from './auth-failures.ts';
import { registerAuthMetrics } from './auth-metrics.ts';
import { AuthUsage } from './auth-usage.ts';
import { BeaconKeys } from './beacon-keys.ts';
import { type AuthConfig, authEnabled, OIDC_ID, type OidcConfig } from './config.ts';
import { type AuthResult, type Credential, CredentialTable, digest } from './credentials.ts';
import type { IssuerKeySet } from './followed-keys.ts';
import { type IssuerFetch, IssuerKeys, type SigningKeys } from './issuer-keys.ts';
import { OidcVerifier } from './oidc-verifier.ts';
import {
  isVerified,
  type JwtOutcome,
  type Refused,
  type Verified,
  VerifiedTokens,
} from './verified-tokens.ts';

/**
 * What the receiver learns of a request's credentials: the identity it was let in with (`token:<id>`,
 * `beacon:<key id>`, `oidc:<username>`; "" when identities are not recorded or auth is off), or the
 * refusal to answer with.
 */
export type AuthVerdict = string | RequestError;

/**
 * Audit events only the receiver that took the request can record: a credential's first use, a
 * minute's failures. A receiver thread's ReceiverAuth hands the main thread these; the main thread's,
 * updated with the same configs, records the rest (changes, windows, key rotations) once.
 */
export const recordedByReceiver = (event: string): boolean =>
  event.endsWith('.first_use') || event === 'auth.failures';

/** The check the receiver runs on every request, before the body is read; async only for a JWT not seen before. */
export interface Authenticator {
  authenticate(headers: IncomingHttpHeaders, peer: string): AuthVerdict | Promise<AuthVerdict>;
}

export interface AuthDependencies {
  /** Where the auth metrics are served; absent in a receiver thread (the main thread serves its counts). */
  registry?: Registry;
  clientIp: (peer: string, forwardedFor: string | undefined) => string;
  log: Logger;
  audit?: AuditSink;
  now?: () => number;
  /** How the OIDC issuer's documents are fetched (tests); by default over undici with issuer_ca_path. */
  issuerFetch?: IssuerFetch;
  /** This receiver's counts of credential use, in shared memory; by default those of a lone receiver. */
  usage?: AuthUsage;
  /**
   * Where a receiver thread gets the issuer's keys instead of fetching them itself (followed-keys.ts):
   * called at start and whenever a reload changes receiver.auth.oidc.
   */
  followKeys?: (config: OidcConfig, removed: (names: readonly string[]) => void) => SigningKeys;
}

const TOKEN = {
  event: 'token',
  noun: 'receiver token',
  refused: 'requests carrying it are refused',
} as const;
const BEARER = /^bearer /i;
/** Three dot-separated parts: a JWS in compact form, which a static token is not expected to be. */
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/**
 * `receiver.auth`: bearer tokens (compared in constant time over fixed-length digests, so that timing
 * says nothing about which token, or how much of one, matched), beacon tokens signed by EdgeWorkers
 * (HS256, beacon_keys), and OIDC tokens (asymmetric, the issuer's keys). A JWT is checked once: the
 * verified ones are remembered by digest until they expire, so the ack path of a repeated token costs a
 * hash and a lookup, and only a new token waits for a signature check (or, with a key id the issuer's
 * set lacks, for one fetch of the set). With no credential configured every request is let in. Use is
 * counted per credential id (never per value) for /metrics and the audit log, in shared memory
 * (auth-usage.ts), so that what several receiver threads count adds up on the main thread.
 */
export class ReceiverAuth implements Authenticator {
  readonly #usage: AuthUsage;
  readonly #tokens: CredentialTable;
  readonly #beaconKeys: BeaconKeys;
  #oidc: OidcVerifier | undefined;
  #config: AuthConfig;
  #verified: VerifiedTokens;
  #enabled: boolean;
  readonly #identities: boolean;
  readonly #failures: AuthFailures;
  readonly #deps: AuthDependencies;
  readonly #audit: AuditSink;
  readonly #now: () => number;
  readonly #keysListeners: ((set: IssuerKeySet) => void)[] = [];

  constructor(config: AuthConfig, deps: AuthDependencies) {
    this.#deps = deps;
    this.#audit = deps.audit ?? NO_AUDIT;
    this.#now = deps.now ?? Date.now;
    this.#failures = new AuthFailures(this.#audit, this.#now);
    this.#usage = deps.usage ?? AuthUsage.alone();
    const table = { log: deps.log, audit: this.#audit, now: this.#now, usage: this.#usage };
    this.#config = config;
    this.#tokens = new CredentialTable(TOKEN, config.tokens, config.warn_before_expiry, table);
    this.#beaconKeys = new BeaconKeys(config, table);
    this.#verified = new VerifiedTokens(config.token_cache_size);
    this.#enabled = authEnabled(config);
    this.#identities = config.identity_attribute !== '';
    this.#oidc = this.#startOidc(config);
    // A changed or removed key takes the tokens verified with it along.
    this.#beaconKeys.table.onChange(() =>
      this.#verified.drop(({ key }) => key !== undefined && this.#beaconKeys.table.find(key.id) !== key),
    );
    if (deps.registry) {
      registerAuthMetrics(deps.registry, {
        usage: this.#usage,
        windows: () => [...this.#tokens.entries, ...this.#beaconKeys.table.entries],
      });
    }
  }

  authenticate(headers: IncomingHttpHeaders, peer: string): AuthVerdict | Promise<AuthVerdict> {
    if (!this.#enabled) return '';
    const attribute = this.#config.oidc.attribute;
    if (this.#oidc && attribute !== 'authorization') {
      const value = headers[attribute];
      if (typeof value === 'string') {
        const token = value.replace(BEARER, '').trim();
        const key = digest(token).toString('base64');
        return this.#jwt(token, key, true, headers, peer) ?? this.#refuse('invalid', headers, peer);
      }
    }
    const header = headers.authorization;
    if (header === undefined || !BEARER.test(header)) return this.#refuse('missing', headers, peer);
    const token = header.slice(7).trim();
    // One digest serves both: the comparison with every static token, and the verified JWTs' key.
    const given = digest(token);
    let matched: Credential | undefined;
    for (const candidate of this.#tokens.entries)
      if (timingSafeEqual(candidate.digest, given)) matched = candidate;
    if (matched !== undefined) return this.#windowed(matched, headers, peer);
    const jwt =
      this.#oidc || this.#config.beacon_keys.length > 0
        ? this.#jwt(token, given.toString('base64'), false, headers, peer)
        : undefined;
    return jwt ?? this.#refuse('invalid', headers, peer);
  }

  /** Applies reloaded `receiver.auth`: tokens and keys added, removed or changed are logged and audited by id. */
  update(config: AuthConfig): void {
    const before = this.#config;
    this.#config = config;
    this.#enabled = authEnabled(config);
    if (
      config.token_cache_size !== before.token_cache_size ||
      config.clock_skew !== before.clock_skew ||
      config.beacon_token_max_lifetime !== before.beacon_token_max_lifetime
    ) {
      // Verified under other rules: checked again under the new ones.
      this.#verified = new VerifiedTokens(config.token_cache_size);
    }
    if (
      canonicalJson(config.oidc) !== canonicalJson(before.oidc) ||
      config.clock_skew !== before.clock_skew
    ) {
      this.#oidc?.keys.stop();
      this.#oidc = this.#startOidc(config);
      this.#verified.drop(({ key }) => key === undefined);
    }
    this.#tokens.update(config.tokens, config.warn_before_expiry);
    this.#beaconKeys.update(config);
  }

  /**
   * The token this replica presents to its peers: the first in the list that is valid now. Peers reload
   * a rotated Secret at different moments, so the older token (listed first) is kept while it lasts.
   */
  peerToken(): string | undefined {
    const now = this.#now();
    return this.#tokens.entries.find((token) => this.#tokens.windowResult(token, now) === 'accepted')?.value;
  }

  /** Called whenever the set of tokens valid now may have changed: a reload, a window opening or closing. */
  onChange(listener: () => void): void {
    this.#tokens.onChange(() => listener());
  }

  /** Told every key set fetched from the OIDC issuer, changed or not (for the receiver threads). */
  onIssuerKeys(listener: (set: IssuerKeySet) => void): void {
    this.#keysListeners.push(listener);
  }

  /** The OIDC issuer's keys as last fetched, if any. */
  issuerKeys(): IssuerKeySet | undefined {
    const set = this.#oidc?.keys.current;
    return set && { issuer: this.#config.oidc.issuer_url, jwks: set.jwks };
  }

  /**
   * A receiver thread met a key id its set lacks: fetches the keys again unless that was done within
   * jwks_min_refresh_interval. Either way the listeners hear the set there is, so the thread stops waiting.
   */
  async refreshIssuerKeys(): Promise<void> {
    const keys = this.#oidc?.keys;
    if (!keys) return;
    const before = keys.current;
    await keys.refreshForRequest();
    // A fetch that got a set has told the listeners already.
    const now = this.issuerKeys();
    if (keys.current === before && now) this.#tellKeys(now);
  }

  #tellKeys(set: IssuerKeySet): void {
    for (const listener of this.#keysListeners) listener(set);
  }

  /** Shutdown: records the minute's failures and the last use of each credential still valid. */
  stop(): void {
    this.#oidc?.keys.stop();
    this.#failures.flush();
    this.#tokens.stop();
    this.#beaconKeys.table.stop();
  }

  #startOidc(config: AuthConfig): OidcVerifier | undefined {
    if (config.oidc.issuer_url === '') return undefined;
    this.#usage.slot(OIDC_ID);
    const { log, issuerFetch, followKeys } = this.#deps;
    // Tokens signed with a key the issuer retired (or without a kid, which may have been one) go.
    const removed = (names: readonly string[]) =>
      this.#verified.drop(({ key, kid }) => key === undefined && (kid === undefined || names.includes(kid)));
    const issuer = config.oidc.issuer_url;
    const keys =
      followKeys?.(config.oidc, removed) ??
      new IssuerKeys(config.oidc, {
        log,
        audit: this.#audit,
        now: this.#now,
        ...(issuerFetch ? { fetch: issuerFetch } : {}),
        removed,
        loaded: (set) => this.#tellKeys({ issuer, jwks: set.jwks }),
      });
    keys.start();
    return new OidcVerifier(config.oidc, config.clock_skew, keys);
  }

  #windowed(token: Credential, headers: IncomingHttpHeaders, peer: string): AuthVerdict {
    const now = this.#now();
    const result = this.#tokens.windowResult(token, now);
    this.#tokens.count(token, result, now);
    if (result !== 'accepted') return this.#fail(result, headers, peer);
    return this.#identities ? `token:${token.id}` : '';
  }

  /**
   * A JWT: verified before (`key`, its SHA-256, is what verified tokens are remembered by), or checked
   * now; undefined when the token is not a JWT at all.
   */
  #jwt(
    token: string,
    key: string,
    oidcOnly: boolean,
    headers: IncomingHttpHeaders,
    peer: string,
  ): AuthVerdict | Promise<AuthVerdict> | undefined {
    const known = this.#verified.get(key, this.#now());
    if (known !== undefined) return this.#accepted(known);
    // Only a token not verified before is read as a JWT at all.
    if (!JWT_SHAPE.test(token)) return undefined;
    return this.#verified
      .verify(key, () => this.#check(token, oidcOnly))
      .then((outcome) =>
        isVerified(outcome) ? this.#accepted(outcome) : this.#refused(outcome, headers, peer),
      );
  }

  /** HS256 goes to the beacon keys, every other algorithm to the OIDC issuer's: a key is never tried with the other kind's algorithm. */
  async #check(token: string, oidcOnly: boolean): Promise<JwtOutcome> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      return { result: 'invalid' };
    }
    const now = this.#now();
    if (header.alg === 'HS256' && !oidcOnly) {
      return this.#beaconKeys.verify(token, typeof header.kid === 'string' ? header.kid : undefined, now);
    }
    return this.#oidc ? this.#oidc.verify(token, header, now) : { result: 'invalid' };
  }

  #accepted(verified: Verified): string {
    const now = this.#now();
    if (verified.key) this.#beaconKeys.table.count(verified.key, 'accepted', now);
    else this.#countOidc('accepted', now);
    return this.#identities ? verified.identity : '';
  }

  #refused({ result, key, oidc }: Refused, headers: IncomingHttpHeaders, peer: string): RequestError {
    const now = this.#now();
    if (key) this.#beaconKeys.table.count(key, result, now);
    else if (oidc) this.#countOidc(result, now);
    else this.#usage.unmatched(result);
    // The issuer's keys are missing, not the client's credentials: no failure of the client's to audit.
    if (result === 'unavailable') return authUnavailable();
    return this.#fail(result, headers, peer);
  }

  #countOidc(result: AuthResult, now: number): void {
    this.#usage.count(this.#usage.slot(OIDC_ID), result, now);
  }

  /** Refuses a request that carried no credential of ours. */
  #refuse(result: AuthResult, headers: IncomingHttpHeaders, peer: string): RequestError {
    this.#usage.unmatched(result);
    return this.#fail(result, headers, peer);
  }

  /** 401, and the failure for the audit log's per-minute record of the source address. */
  #fail(result: AuthResult, headers: IncomingHttpHeaders, peer: string): RequestError {
    this.#failures.add(this.#deps.clientIp(peer, headers['x-forwarded-for'] as string | undefined), result);
    return unauthorized();
  }
}
