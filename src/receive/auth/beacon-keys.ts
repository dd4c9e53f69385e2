import type { webcrypto } from 'node:crypto';
import { jwtVerify } from 'jose';
import type { AuthConfig } from './config.ts';
import {
  type Credential,
  type CredentialKind,
  CredentialTable,
  type TableDependencies,
} from './credentials.ts';
import { type JwtOutcome, resultOf } from './verified-tokens.ts';

export const BEACON_KEY: CredentialKind = {
  event: 'beacon_key',
  noun: 'beacon key',
  refused: 'beacons signed with it are refused',
};

const entriesOf = (config: AuthConfig) =>
  config.beacon_keys.map(({ id, secret, not_before, not_after }) => ({
    id,
    value: secret,
    not_before,
    not_after,
  }));

/**
 * Beacon tokens that EdgeWorkers sign (edge/src/sign.js): short-lived HS256 JWTs whose `kid` names one of
 * `receiver.auth.beacon_keys`. Only HS256 is accepted with these keys, a key only inside its window, and
 * a token only while `exp - iat` is within the configured maximum lifetime: a long-lived token made
 * with a leaked key would otherwise outlive the key's rotation.
 */
export class BeaconKeys {
  readonly table: CredentialTable;
  #maxLifetimeS: number;
  #skewS: number;
  /** Each key imported once for Web Crypto, rather than on every check jose makes. */
  readonly #imported = new WeakMap<Credential, Promise<webcrypto.CryptoKey>>();

  constructor(config: AuthConfig, deps: TableDependencies) {
    this.table = new CredentialTable(BEACON_KEY, entriesOf(config), config.warn_before_expiry, deps);
    this.#maxLifetimeS = config.beacon_token_max_lifetime / 1000;
    this.#skewS = config.clock_skew / 1000;
  }

  update(config: AuthConfig): void {
    this.#maxLifetimeS = config.beacon_token_max_lifetime / 1000;
    this.#skewS = config.clock_skew / 1000;
    this.table.update(entriesOf(config), config.warn_before_expiry);
  }

  async verify(token: string, kid: string | undefined, now: number): Promise<JwtOutcome> {
    const key = kid === undefined ? undefined : this.table.find(kid);
    if (key === undefined) return { result: 'unknown_key' };
    const window = this.table.windowResult(key, now);
    if (window !== 'accepted') return { result: window, key };
    try {
      const { payload } = await jwtVerify(token, await this.#cryptoKey(key), {
        algorithms: ['HS256'],
        requiredClaims: ['exp'],
        maxTokenAge: this.#maxLifetimeS,
        clockTolerance: this.#skewS,
        currentDate: new Date(now),
      });
      const { iat, exp } = payload as { iat: number; exp: number };
      if (exp - iat > this.#maxLifetimeS) return { result: 'invalid', key };
      return {
        identity: `beacon:${key.id}`,
        until: Math.min((exp + this.#skewS) * 1000, key.notAfter),
        key,
        kid: key.id,
      };
    } catch (error) {
      return { result: resultOf(error), key };
    }
  }

  #cryptoKey(key: Credential): Promise<webcrypto.CryptoKey> {
    let imported = this.#imported.get(key);
    if (imported === undefined) {
      imported = crypto.subtle.importKey(
        'raw',
        Buffer.from(key.value, 'latin1'),
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['verify'],
      );
      this.#imported.set(key, imported);
    }
    return imported;
  }
}
