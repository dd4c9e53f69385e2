import { type JWTPayload, SignJWT } from 'jose';
import type { AuthConfig } from '../../src/receive/auth/config.ts';
import { resolveConfig } from '../../src/service/load-config.ts';

/** `receiver.auth` as the loader makes it from these keys: defaults filled, durations in ms. */
export const authConfig = (auth: Record<string, unknown>): AuthConfig =>
  resolveConfig({ receiver: { auth } }).receiver.auth;

/** A token with a hand-made header and payload and the given signature part (for `none` and forged tokens). */
export function rawToken(header: object, payload: object, signature = ''): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part(header)}.${part(payload)}.${signature}`;
}

/** A beacon token as edge/src/sign.js makes one (HS256, `kid`), here with jose: by default valid for a minute. */
export function beaconToken(secret: string, kid: string, claims: JWTPayload = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iat: now, exp: now + 60, ...claims })
    .setProtectedHeader({ alg: 'HS256', kid, typ: 'JWT' })
    .sign(Buffer.from(secret));
}
