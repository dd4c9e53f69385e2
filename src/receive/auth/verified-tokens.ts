import { LRUCache } from 'lru-cache';
import type { AuthResult, Credential } from './credentials.ts';

/** A JWT whose signature and claims were checked: what a repeated request with it needs. */
export interface Verified {
  /** What the identity attribute records: `beacon:<key id>` or `oidc:<username>`. */
  readonly identity: string;
  /** Epoch ms from which the token is refused: its exp plus the clock skew, or its key's not_after. */
  readonly until: number;
  /** The beacon key it was signed with; undefined for an OIDC token. */
  readonly key: Credential | undefined;
  /** The `kid` it named, so that a key the issuer retires takes its tokens with it. */
  readonly kid: string | undefined;
}

/**
 * Why a JWT was refused, and what it is counted under: the beacon key it named (if we have it), or the
 * OIDC issuer (when the issuer's keys checked it); otherwise no credential.
 */
export interface Refused {
  readonly result: Exclude<AuthResult, 'accepted' | 'missing'>;
  readonly key?: Credential | undefined;
  readonly oidc?: true;
}

export type JwtOutcome = Verified | Refused;

export const isVerified = (outcome: JwtOutcome): outcome is Verified => 'identity' in outcome;

/** What a jose error says about a token, as a result (expired, not yet valid, unknown key, or invalid). */
export function resultOf(error: unknown): Refused['result'] {
  const { code, claim, reason } = (error ?? {}) as { code?: string; claim?: string; reason?: string };
  if (code === 'ERR_JWT_EXPIRED') return 'expired';
  if (code === 'ERR_JWKS_NO_MATCHING_KEY') return 'unknown_key';
  if (
    code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' &&
    (claim === 'nbf' || claim === 'iat') &&
    reason === 'check_failed'
  )
    return 'not_yet_valid';
  return 'invalid';
}

/**
 * Verified JWTs by the SHA-256 of their text (never the text itself, which is a bearer credential; the
 * caller digests every bearer token anyway), bounded in number and each kept until it expires, so that
 * a token sent again costs a hash and a lookup rather than a signature check. A token being verified is verified once however many requests
 * carry it meanwhile.
 */
export class VerifiedTokens {
  readonly #cache: LRUCache<string, Verified>;
  readonly #pending = new Map<string, Promise<JwtOutcome>>();
  /** Moves on whenever keys change: a check that began before may not fill the cache after. */
  #generation = 0;

  constructor(max: number) {
    this.#cache = new LRUCache({ max });
  }

  get(key: string, now: number): Verified | undefined {
    const verified = this.#cache.get(key);
    if (verified === undefined || now < verified.until) return verified;
    this.#cache.delete(key);
    return undefined;
  }

  /** Verifies a token not in the cache, sharing a verification already under way; remembers a success. */
  verify(key: string, check: () => Promise<JwtOutcome>): Promise<JwtOutcome> {
    const pending = this.#pending.get(key);
    if (pending !== undefined) return pending;
    const generation = this.#generation;
    const checked = check()
      .catch((error: unknown): JwtOutcome => ({ result: resultOf(error) }))
      .then((outcome) => {
        if (generation !== this.#generation) return outcome;
        this.#pending.delete(key);
        if (isVerified(outcome)) this.#cache.set(key, outcome);
        return outcome;
      });
    this.#pending.set(key, checked);
    return checked;
  }

  /** Forgets the tokens `which` picks (their key was removed or changed), so that they are checked again. */
  drop(which: (verified: Verified) => boolean): void {
    this.#forgetPending();
    const dropped = [...this.#cache.entries()].filter(([, verified]) => which(verified));
    for (const [key] of dropped) this.#cache.delete(key);
  }

  clear(): void {
    this.#forgetPending();
    this.#cache.clear();
  }

  #forgetPending(): void {
    this.#generation++;
    this.#pending.clear();
  }
}
