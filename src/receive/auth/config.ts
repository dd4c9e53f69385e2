import { type ConfigOf, REDACTED } from '../../lib/component.ts';
import { ConfigError } from '../../lib/errors.ts';
import { duration, optionalUrl, section } from '../../lib/schema-keywords.ts';

/** Names a credential in metrics, logs and the audit log: never derived from its secret. */
const credentialId = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' } as const;
/** Accepted from `not_before` (inclusive) until `not_after` (exclusive), either open. */
const validity = {
  not_before: { type: 'string', format: 'date-time' },
  not_after: { type: 'string', format: 'date-time' },
} as const;

/** One accepted bearer token. */
const tokenSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'value'],
  properties: { id: credentialId, value: { type: 'string', minLength: 16 }, ...validity },
} as const;

/**
 * One key EdgeWorkers sign beacon tokens with (HS256, `kid` = `id`). Printable ASCII only: the edge
 * signs the key's characters as bytes, and the relay must read the same bytes from its file.
 */
const beaconKeySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'secret'],
  properties: { id: credentialId, secret: { type: 'string', pattern: '^[!-~]{32,}$' }, ...validity },
} as const;

const claimValue = { type: ['string', 'number', 'boolean'] } as const;

/** The Collector's `oidc` authenticator keys (single provider), and what the relay adds to them. */
const oidcSchema = section({
  // The issuer: its discovery document is `<issuer_url>/.well-known/openid-configuration`. "": off.
  issuer_url: optionalUrl,
  // A CA (PEM) that signs the issuer's certificate, instead of the system's.
  issuer_ca_path: { type: 'string', default: '' },
  // What the token's `aud` must contain; required unless ignore_audience.
  audience: { type: 'string', default: '' },
  ignore_audience: { type: 'boolean', default: false },
  // The claim that names the client (a string): the identity the relay records.
  username_claim: { type: 'string', minLength: 1, default: 'sub' },
  // The request header that carries the token (`Bearer <token>` or the bare token).
  attribute: { type: 'string', pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$", default: 'authorization' },
  // Claims a token must carry: claim → value, or a list of values of which one must match.
  required_claims: {
    type: 'object',
    additionalProperties: { anyOf: [claimValue, { type: 'array', items: claimValue, minItems: 1 }] },
    default: {},
  },
  // The keys are fetched again this often, so that keys the issuer retires stop being accepted (0: never).
  jwks_refresh_interval: duration('10m'),
  // Tokens with a key id not in the set fetch it again at most this often (never two at once).
  jwks_min_refresh_interval: duration('30s'),
  // Longest one fetch of the discovery document or the keys may take.
  timeout: duration('5s'),
});

export const authSchema = section({
  // Plain strings are shorthand for `{ id: token-<index>, value }` (expanded before validation).
  tokens: { type: 'array', items: tokenSchema, default: [] },
  // How long before a token's (or beacon key's) not_after the relay starts warning that it expires.
  warn_before_expiry: duration('24h'),
  beacon_keys: { type: 'array', items: beaconKeySchema, default: [] },
  // Longest lifetime (exp - iat) of a signed beacon token.
  beacon_token_max_lifetime: duration('5m'),
  // How far the clocks of token issuers (EdgeWorkers, the OIDC issuer) may be from the relay's.
  clock_skew: duration('30s'),
  // Verified JWTs remembered (by digest, until they expire), so that a repeated one costs a lookup.
  token_cache_size: { type: 'integer', minimum: 1, default: 10000 },
  // The resource attribute that names the credential spans came with; "": none.
  identity_attribute: { type: 'string', default: '' },
  oidc: oidcSchema,
});
export type AuthConfig = ConfigOf<typeof authSchema>;
export type TokenConfig = AuthConfig['tokens'][number];
export type BeaconKeyConfig = AuthConfig['beacon_keys'][number];
export type OidcConfig = AuthConfig['oidc'];

/** What OIDC requests are counted under in edge_relay_auth_requests_total{token_id}: not a credential id. */
export const OIDC_ID = 'oidc';

/** Whether any credential is configured: without one every request is let in. */
export const authEnabled = (auth: AuthConfig): boolean =>
  auth.tokens.length > 0 || auth.beacon_keys.length > 0 || auth.oidc.issuer_url !== '';

/** The id of a token given without one: its position in the list, which says nothing about its value. */
export const positionalTokenId = (index: number): string => `token-${index}`;

/**
 * `tokens: [secret, …]` (the form before tokens had ids) and entries without `id` get positional ids.
 * A hash of the value would be stable across reordering, but even a short hash prefix of a short secret
 * narrows a guess, and ids are printed everywhere.
 */
export function expandTokens(auth: unknown): unknown {
  const tokens = (auth as { tokens?: unknown } | null)?.tokens;
  if (!Array.isArray(tokens)) return auth;
  const expanded = tokens.map((token: unknown, index) => {
    if (typeof token === 'string') return { id: positionalTokenId(index), value: token };
    if (token !== null && typeof token === 'object' && !('id' in token)) {
      return { id: positionalTokenId(index), ...token };
    }
    return token;
  });
  return { ...(auth as object), tokens: expanded };
}

type Windowed = { id: string; not_before?: string; not_after?: string };

/** One list of credentials, and which of its keys holds the secret (what one of them is called). */
type CredentialList = [list: string, entries: readonly Windowed[], secret: 'value' | 'secret', noun: string];

/**
 * Ids are unique across tokens and beacon keys (they share the token_id label), each secret is listed
 * once, and a window is not empty.
 */
function checkCredentials(lists: readonly CredentialList[]): void {
  const ids = new Map<string, string>();
  for (const [list, entries, field, noun] of lists) {
    const secrets = new Map<string, number>();
    for (const [index, entry] of entries.entries()) {
      const key = `receiver.auth.${list}[${index}]`;
      const sameId = ids.get(entry.id);
      if (sameId !== undefined) throw new ConfigError(`${key}.id`, `"${entry.id}" is also ${sameId}'s id`);
      if (entry.id === OIDC_ID) throw new ConfigError(`${key}.id`, `"${OIDC_ID}" names OIDC requests`);
      ids.set(entry.id, `${list}[${index}]`);
      const secret = (entry as Record<string, string>)[field] as string;
      const same = secrets.get(secret);
      if (same !== undefined) {
        throw new ConfigError(
          `${key}.${field}`,
          `the same ${noun} as ${list}[${same}]; list each ${noun} once`,
        );
      }
      secrets.set(secret, index);
      if (
        entry.not_before &&
        entry.not_after &&
        Date.parse(entry.not_before) >= Date.parse(entry.not_after)
      ) {
        throw new ConfigError(`${key}.not_after`, 'must be later than not_before');
      }
    }
  }
}

/** What the schema cannot say about `receiver.auth`. */
export function checkAuth(auth: AuthConfig): void {
  checkCredentials([
    ['tokens', auth.tokens, 'value', 'token'],
    ['beacon_keys', auth.beacon_keys, 'secret', 'key'],
  ]);
  const { oidc } = auth;
  if (oidc.issuer_url === '') {
    if (oidc.audience !== '' || oidc.issuer_ca_path !== '' || Object.keys(oidc.required_claims).length > 0)
      throw new ConfigError('receiver.auth.oidc.issuer_url', 'required when any other oidc key is set');
    return;
  }
  if (oidc.audience === '' && !oidc.ignore_audience) {
    throw new ConfigError(
      'receiver.auth.oidc.audience',
      'required (the value the tokens name in `aud`), unless ignore_audience is true',
    );
  }
  if (oidc.timeout === 0) throw new ConfigError('receiver.auth.oidc.timeout', 'must be more than 0');
}

/** `receiver.auth` with its secrets replaced, for digests. */
export const redactAuth = (auth: AuthConfig): AuthConfig => ({
  ...auth,
  tokens: auth.tokens.map((token) => ({ ...token, value: REDACTED })),
  beacon_keys: auth.beacon_keys.map((key) => ({ ...key, secret: REDACTED })),
});
