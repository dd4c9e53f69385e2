import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * Checks `Authorization: Bearer <token>` against the configured tokens. Several tokens may be active
 * so that they can be rotated; every token is compared, in constant time over fixed-length digests,
 * so timing says nothing about which token, or how much of one, matched.
 */
export function bearerAuth(tokens: readonly string[]): (header: string | undefined) => boolean {
  const expected = tokens.map(digest);
  return (header) => {
    // The scheme is case-insensitive (RFC 9110 §11.1): "bearer" and "BEARER" are Bearer too.
    if (header === undefined || !/^bearer /i.test(header)) return false;
    const given = digest(header.slice(7).trim());
    let ok = false;
    for (const token of expected) ok = timingSafeEqual(token, given) || ok;
    return ok;
  };
}
