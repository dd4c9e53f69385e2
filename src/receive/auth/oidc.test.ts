import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { authConfig, rawToken } from '../../../test/support/auth-tokens.ts';
import { testPki } from '../../../test/support/certs.ts';
import { issuerForFile, OidcIssuer } from '../../../test/support/oidc-issuer.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { RequestError } from '../../lib/errors.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { type AuthVerdict, ReceiverAuth } from './receiver-auth.ts';

const file = issuerForFile();
const { started } = file;

function setup(oidc: Record<string, unknown> = {}) {
  const registry = new Registry();
  const events: { event: string; fields: Record<string, unknown> }[] = [];
  const auth = new ReceiverAuth(
    authConfig({
      identity_attribute: 'edge_relay.client.identity',
      oidc: { issuer_url: file.issuer.url, audience: 'edge-relay', jwks_min_refresh_interval: '1h', ...oidc },
    }),
    {
      registry,
      clientIp: (peer) => peer,
      log: createLogger('silent'),
      audit: { record: (event, fields = {}) => events.push({ event, fields }) },
    },
  );
  started.push(auth);
  const check = (token: string): AuthVerdict | Promise<AuthVerdict> =>
    auth.authenticate({ authorization: `Bearer ${token}` }, '192.0.2.1');
  const status = async (token: string) => {
    const verdict = await check(token);
    return verdict instanceof RequestError ? verdict.statusCode : verdict;
  };
  return { auth, check, status, registry, events };
}

describe('OIDC tokens', () => {
  it('are accepted when the issuer signed them for the audience, as their username claim', async () => {
    const { status, events } = setup();
    expect(await status(await file.issuer.sign('k1'))).toBe('oidc:collector-1');
    expect(events.map((e) => e.event)).toEqual(['oidc.keys_loaded']);
    expect(events[0]?.fields).toEqual({ issuer: file.issuer.url, kids: ['k1'] });
  });

  it('cost a lookup, not a signature check, when they come again', async () => {
    const { check } = setup();
    const token = await file.issuer.sign('k1');
    expect(await check(token)).toBe('oidc:collector-1');
    // Synchronous: the hook answers without waiting for anything.
    expect(check(token)).toBe('oidc:collector-1');
  });

  it.each([
    ['expired', { exp: Math.floor(Date.now() / 1000) - 3600 }, 'expired'],
    ['for another audience', { aud: 'someone-else' }, 'invalid'],
    ['from another issuer', { iss: 'https://idp.example.com' }, 'invalid'],
    ['not valid yet', { nbf: Math.floor(Date.now() / 1000) + 3600 }, 'not_yet_valid'],
    ['without exp', { exp: undefined }, 'invalid'],
  ])('are refused with 401 when %s', async (_what, claims, result) => {
    const { status, registry } = setup();
    expect(await status(await file.issuer.sign('k1', claims))).toBe(401);
    expect(await registry.metrics()).toContain(
      `edge_relay_auth_requests_total{token_id="oidc",result="${result}"} 1`,
    );
  });

  it('are accepted within the clock skew of their exp', async () => {
    const { status } = setup();
    const token = await file.issuer.sign('k1', { exp: Math.floor(Date.now() / 1000) - 10 });
    expect(await status(token)).toBe('oidc:collector-1');
  });

  it('take the username from username_claim, and must carry the required claims', async () => {
    const { status } = setup({ username_claim: 'email', required_claims: { groups: ['tracing', 'ops'] } });
    const claims = { email: 'otel@example.com', groups: ['ops', 'web'] };
    expect(await status(await file.issuer.sign('k1', claims))).toBe('oidc:otel@example.com');
    expect(await status(await file.issuer.sign('k1', { ...claims, groups: ['web'] }))).toBe(401);
    expect(await status(await file.issuer.sign('k1', { groups: ['ops'] }))).toBe(401);
  });

  it('refuse none, and HS256 signed with the public key', async () => {
    const { status } = setup();
    const publicJwk = JSON.stringify(await file.issuer.addKey('k-public', { publish: true }));
    const claims = {
      iss: file.issuer.url,
      aud: 'edge-relay',
      sub: 'mallory',
      exp: Math.floor(Date.now() / 1000) + 60,
    };
    expect(await status(rawToken({ alg: 'none', kid: 'k1' }, claims))).toBe(401);
    const { SignJWT } = await import('jose');
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: 'k-public' })
      .sign(Buffer.from(publicJwk));
    expect(await status(forged)).toBe(401);
  });

  it('come in the header `attribute` names, where HS256 is refused by the issuer keys too', async () => {
    const { auth } = setup({ attribute: 'x-id-token' });
    const carried = async (token: string) => {
      const verdict = await auth.authenticate({ 'x-id-token': token }, '192.0.2.1');
      return verdict instanceof RequestError ? verdict.statusCode : verdict;
    };
    expect(await carried(await file.issuer.sign('k1'))).toBe('oidc:collector-1');
    const { SignJWT } = await import('jose');
    const jwk = await file.issuer.addKey('k-hs', { publish: true });
    const claims = {
      iss: file.issuer.url,
      aud: 'edge-relay',
      sub: 'mallory',
      exp: Math.floor(Date.now() / 1000) + 60,
    };
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: 'k-hs' })
      .sign(Buffer.from(JSON.stringify(jwk)));
    expect(await carried(forged)).toBe(401);
  });

  it('with an unknown kid fetch the keys again once, however many arrive, and no more than the interval allows', async () => {
    const { check, status } = setup();
    expect(await status(await file.issuer.sign('k1'))).toBe('oidc:collector-1');
    const before = file.issuer.jwksRequests;
    await file.issuer.addKey('k-new');
    // Five different tokens, so that each is verified on its own and each finds the kid unknown.
    const tokens = await Promise.all(
      Array.from({ length: 5 }, (_, jti) => file.issuer.sign('k-new', { jti: `${jti}` })),
    );
    const answers = await Promise.all(tokens.map((token) => check(token)));
    expect(answers).toEqual(Array(5).fill('oidc:collector-1'));
    expect(file.issuer.jwksRequests).toBe(before + 1);
    await file.issuer.addKey('k-unpublished', { publish: false });
    expect(await status(await file.issuer.sign('k-unpublished'))).toBe(401);
    // Within jwks_min_refresh_interval of the last fetch a client asked for: no fetch.
    expect(file.issuer.jwksRequests).toBe(before + 1);
  });

  it('signed by a key the issuer retired are refused once the set is fetched again, and the rotation is audited', async () => {
    const { status, events } = setup({ jwks_refresh_interval: '50ms', jwks_min_refresh_interval: '10ms' });
    await file.issuer.addKey('k-old');
    const old = await file.issuer.sign('k-old');
    expect(await status(old)).toBe('oidc:collector-1');
    file.issuer.retire('k-old');
    // The set may have been fetched for k-old first (a rotation that added it): wait for its removal.
    const rotation = await waitFor(
      () =>
        events.find(
          (e) => e.event === 'oidc.keys_rotated' && (e.fields.removed as string[]).includes('k-old'),
        ),
      'the rotation',
    );
    expect(await status(old)).toBe(401);
    expect(rotation.fields).toMatchObject({ issuer: file.issuer.url, removed: ['k-old'], added: [] });
    expect(JSON.stringify(events)).not.toMatch(/"[dxy]":/);
    file.issuer.publish('k-old');
  });

  it('get 503 while the issuer cannot be reached, and no failure of the client is recorded', async () => {
    const { status } = setup({ issuer_url: 'http://127.0.0.1:9/realms/none', timeout: '1s' });
    const token = await file.issuer.sign('k1', { iss: 'http://127.0.0.1:9/realms/none' });
    expect(await status(token)).toBe(503);
  });

  it('reach an https issuer through issuer_ca_path, and none without it', async () => {
    const pki = testPki();
    const { certFile, keyFile } = pki.issue('issuer');
    const secure = await OidcIssuer.start({ cert: readFileSync(certFile), key: readFileSync(keyFile) });
    try {
      await secure.addKey('tls-1');
      const token = await secure.sign('tls-1');
      const trusting = setup({ issuer_url: secure.url, issuer_ca_path: pki.caFile });
      expect(await trusting.status(token)).toBe('oidc:collector-1');
      const untrusting = setup({ issuer_url: secure.url });
      expect(await untrusting.status(token)).toBe(503);
    } finally {
      await secure.close();
    }
  });

  it('without a kid are checked against each key that could have signed them', async () => {
    const anonymous = await OidcIssuer.start();
    try {
      await anonymous.addKey('a', { named: false });
      await anonymous.addKey('b', { named: false });
      const { status, events } = setup({ issuer_url: anonymous.url });
      expect(await status(await anonymous.sign('b'))).toBe('oidc:collector-1');
      expect(events[0]?.fields.kids).toEqual([
        expect.stringMatching(/^jkt:/),
        expect.stringMatching(/^jkt:/),
      ]);
      await anonymous.addKey('c', { named: false, publish: false });
      expect(await status(await anonymous.sign('c'))).toBe(401);
    } finally {
      await anonymous.close();
    }
  });
});
