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
import { BeaconKeys } from './beacon-keys.ts';
import { type AuthConfig, authEnabled, OIDC_ID } from './config.ts';
import {
  type AuthResult,
  type Credential,
  CredentialTable,
  digest,
  newUsage,
  type Usage,
} from './credentials.ts';
import type { IssuerFetch } from './issuer-keys.ts';
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

/** The check the receiver runs on every request, before the body is read; async only for a JWT not seen before. */
export interface Authenticator {
  authenticate(headers: IncomingHttpHeaders, peer: string): AuthVerdict | Promise<AuthVerdict>;
}

export interface AuthDependencies {
  registry: Registry;
  clientIp: (peer: string, forwardedFor: string | undefined) => string;
  log: Logger;
  audit?: AuditSink;
  now?: () => number;
  /** How the OIDC issuer's documents are fetched (tests); by default over undici with issuer_ca_path. */
  issuerFetch?: IssuerFetch;
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
 * counted per credential id (never per value) for /metrics and the audit log.
 */
export class ReceiverAuth implements Authenticator {
  readonly #usage = new Map<string, Usage>();
  readonly #unmatched: Partial<Record<AuthResult, number>> = {};
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

  constructor(config: AuthConfig, deps: AuthDependencies) {
    this.#deps = deps;
    this.#audit = deps.audit ?? NO_AUDIT;
    this.#now = deps.now ?? Date.now;
    this.#failures = new AuthFailures(this.#audit, this.#now);
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
    registerAuthMetrics(deps.registry, {
      usage: this.#usage,
      unmatched: this.#unmatched,
      windows: () => [...this.#tokens.entries, ...this.#beaconKeys.table.entries],
    });
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

  /** Shutdown: records the minute's failures and the last use of each credential still valid. */
  stop(): void {
    this.#oidc?.keys.stop();
    this.#failures.flush();
    this.#tokens.stop();
    this.#beaconKeys.table.stop();
  }

  #startOidc(config: AuthConfig): OidcVerifier | undefined {
    if (config.oidc.issuer_url === '') return undefined;
    if (!this.#usage.has(OIDC_ID)) this.#usage.set(OIDC_ID, newUsage());
    const { log, issuerFetch } = this.#deps;
    const oidc = new OidcVerifier(config.oidc, config.clock_skew, {
      log,
      audit: this.#audit,
      now: this.#now,
      ...(issuerFetch ? { fetch: issuerFetch } : {}),
      // Tokens signed with a key the issuer retired (or without a kid, which may have been one) go.
      removed: (names) =>
        this.#verified.drop(
          ({ key, kid }) => key === undefined && (kid === undefined || names.includes(kid)),
        ),
    });
    oidc.keys.start();
    return oidc;
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
    else this.#unmatched[result] = (this.#unmatched[result] ?? 0) + 1;
    // The issuer's keys are missing, not the client's credentials: no failure of the client's to audit.
    if (result === 'unavailable') return authUnavailable();
    return this.#fail(result, headers, peer);
  }

  #countOidc(result: AuthResult, now: number): void {
    const usage = this.#usage.get(OIDC_ID) ?? newUsage();
    usage.counts[result] = (usage.counts[result] ?? 0) + 1;
    if (result === 'accepted') usage.lastUsed = now;
  }

  /** Refuses a request that carried no credential of ours. */
  #refuse(result: AuthResult, headers: IncomingHttpHeaders, peer: string): RequestError {
    this.#unmatched[result] = (this.#unmatched[result] ?? 0) + 1;
    return this.#fail(result, headers, peer);
  }

  /** 401, and the failure for the audit log's per-minute record of the source address. */
  #fail(result: AuthResult, headers: IncomingHttpHeaders, peer: string): RequestError {
    this.#failures.add(this.#deps.clientIp(peer, headers['x-forwarded-for'] as string | undefined), result);
    return unauthorized();
  }
}
