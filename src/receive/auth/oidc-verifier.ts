import type { webcrypto } from 'node:crypto';
import { type JWTPayload, type JWTVerifyGetKey, jwtVerify, type ProtectedHeaderParameters } from 'jose';
import type { OidcConfig } from './config.ts';
import type { KeySet, SigningKeys } from './issuer-keys.ts';
import { type JwtOutcome, resultOf } from './verified-tokens.ts';

/**
 * The asymmetric JWS algorithms, as the Collector's authenticator allows them. jose pins each to its key
 * type (an RSA key verifies the RS and PS algorithms only, a P-256 key ES256 only, and a key whose JWK names an `alg`
 * only that one), never takes a symmetric algorithm with a key set, and has no `none`.
 */
const ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/** A name fit for a resource attribute: 1 to 256 characters, none of them a control character. */
const NAME = /^[^\p{Cc}]{1,256}$/u;

type ClaimValue = string | number | boolean;

/** Whether a claim carries the value asked for (any of a list); a claim that is a list need only contain it. */
function hasClaim(payload: JWTPayload, claim: string, wanted: ClaimValue | ClaimValue[]): boolean {
  const accepted = Array.isArray(wanted) ? wanted : [wanted];
  const actual = payload[claim];
  return Array.isArray(actual)
    ? actual.some((value) => accepted.includes(value as ClaimValue))
    : accepted.includes(actual as ClaimValue);
}

/** jose's keys from a set, trying each when a token without `kid` matches several. */
async function verifyWithSet(
  token: string,
  resolve: JWTVerifyGetKey,
  options: Parameters<typeof jwtVerify>[2],
) {
  try {
    return await jwtVerify(token, resolve, options);
  } catch (error) {
    const candidates = (
      error as { code?: string; [Symbol.asyncIterator]?: () => AsyncIterator<webcrypto.CryptoKey> }
    )[Symbol.asyncIterator];
    if ((error as { code?: string }).code !== 'ERR_JWKS_MULTIPLE_MATCHING_KEYS' || !candidates) throw error;
    for await (const key of { [Symbol.asyncIterator]: candidates }) {
      try {
        return await jwtVerify(token, key, options);
      } catch (next) {
        if ((next as { code?: string }).code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw next;
      }
    }
    throw error;
  }
}

/**
 * `receiver.auth.oidc`: bearer JWTs from an OpenID Connect issuer, as the Collector's `oidc`
 * authenticator checks them: signed by one of the issuer's keys, `iss` the issuer, `aud` containing
 * the audience, within `exp` and `nbf` (give or take the clock skew), plus the required claims. The
 * username claim names the client.
 */
export class OidcVerifier {
  readonly keys: SigningKeys;
  readonly #config: OidcConfig;
  readonly #skewS: number;

  constructor(config: OidcConfig, skewMs: number, keys: SigningKeys) {
    this.#config = config;
    this.#skewS = skewMs / 1000;
    this.keys = keys;
  }

  async verify(token: string, header: ProtectedHeaderParameters, now: number): Promise<JwtOutcome> {
    const { kid } = header;
    let set: KeySet | undefined = this.keys.current ?? (await this.keys.refreshForRequest());
    if (set === undefined) return { result: 'unavailable', oidc: true };
    if (typeof kid === 'string' && !set.kids.has(kid)) {
      set = (await this.keys.refreshForRequest()) ?? set;
      if (!set.kids.has(kid)) return { result: 'unknown_key', oidc: true };
    }
    const config = this.#config;
    try {
      const { payload } = await verifyWithSet(token, set.resolve, {
        algorithms: ALGORITHMS,
        issuer: config.issuer_url,
        ...(config.ignore_audience ? {} : { audience: config.audience }),
        requiredClaims: ['exp'],
        clockTolerance: this.#skewS,
        currentDate: new Date(now),
      });
      const username = payload[config.username_claim];
      if (typeof username !== 'string' || !NAME.test(username)) return { result: 'invalid', oidc: true };
      for (const [claim, wanted] of Object.entries(config.required_claims)) {
        if (!hasClaim(payload, claim, wanted)) return { result: 'invalid', oidc: true };
      }
      return {
        identity: `oidc:${username}`,
        until: ((payload.exp as number) + this.#skewS) * 1000,
        key: undefined,
        kid: typeof kid === 'string' ? kid : undefined,
      };
    } catch (error) {
      return { result: resultOf(error), oidc: true };
    }
  }
}
