import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { authConfig, beaconToken, rawToken } from '../../../test/support/auth-tokens.ts';
import { RequestError } from '../../lib/errors.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { ReceiverAuth } from './receiver-auth.ts';

const SECRET = 'edge-key-1-0123456789abcdefghijklmnop';
const OTHER = 'edge-key-2-0123456789abcdefghijklmnop';
const now = () => Math.floor(Date.now() / 1000);

function setup(
  keys: Record<string, unknown>[] = [{ id: 'edge-k1', secret: SECRET }],
  auth: Record<string, unknown> = {},
) {
  const registry = new Registry();
  const events: string[] = [];
  const config = (beacon_keys: Record<string, unknown>[]) =>
    authConfig({ beacon_keys, identity_attribute: 'edge_relay.client.identity', ...auth });
  const receiver = new ReceiverAuth(config(keys), {
    registry,
    clientIp: (peer) => peer,
    log: createLogger('silent'),
    audit: { record: (event) => events.push(event) },
  });
  const check = (token: string) => receiver.authenticate({ authorization: `Bearer ${token}` }, '192.0.2.1');
  const status = async (token: string) => {
    const verdict = await check(token);
    return verdict instanceof RequestError ? verdict.statusCode : verdict;
  };
  const reload = (beacon_keys: Record<string, unknown>[]) => receiver.update(config(beacon_keys));
  return { check, status, reload, registry, events, stop: () => receiver.stop() };
}

describe('beacon tokens signed by EdgeWorkers', () => {
  it('are accepted with a configured key, as its id, and cost a lookup when they come again', async () => {
    const { check, status, registry } = setup();
    const token = await beaconToken(SECRET, 'edge-k1');
    expect(await status(token)).toBe('beacon:edge-k1');
    expect(check(token)).toBe('beacon:edge-k1');
    expect(await registry.metrics()).toContain(
      'edge_relay_auth_requests_total{token_id="edge-k1",result="accepted"} 2',
    );
  });

  it.each([
    [
      'expired',
      async () => beaconToken(SECRET, 'edge-k1', { iat: now() - 600, exp: now() - 300 }),
      'expired',
    ],
    [
      'living longer than beacon_token_max_lifetime',
      async () => beaconToken(SECRET, 'edge-k1', { exp: now() + 3600 }),
      'invalid',
    ],
    [
      'issued in the future',
      async () => beaconToken(SECRET, 'edge-k1', { iat: now() + 600, exp: now() + 660 }),
      'not_yet_valid',
    ],
    ['without iat', async () => beaconToken(SECRET, 'edge-k1', { iat: undefined }), 'invalid'],
    ['signed with another secret', async () => beaconToken(OTHER, 'edge-k1'), 'invalid'],
    [
      'tampered with',
      async () => {
        const [header, , signature] = (await beaconToken(SECRET, 'edge-k1')).split('.');
        const payload = Buffer.from(JSON.stringify({ iat: now(), exp: now() + 120 })).toString('base64url');
        return `${header}.${payload}.${signature}`;
      },
      'invalid',
    ],
    [
      'unsigned (alg none)',
      async () => rawToken({ alg: 'none', kid: 'edge-k1' }, { iat: now(), exp: now() + 60 }),
      undefined,
    ],
  ])('are refused with 401 when %s', async (_what, make, result) => {
    const { status, registry } = setup();
    expect(await status(await make())).toBe(401);
    if (result) {
      expect(await registry.metrics()).toContain(
        `edge_relay_auth_requests_total{token_id="edge-k1",result="${result}"} 1`,
      );
    }
  });

  it('naming no configured key are refused, and counted under no id', async () => {
    const { status, registry } = setup();
    expect(await status(await beaconToken(SECRET, 'edge-k9'))).toBe(401);
    expect(await registry.metrics()).toContain(
      'edge_relay_auth_requests_total{token_id="",result="unknown_key"} 1',
    );
  });

  it('are refused outside their key window', async () => {
    const { status, registry } = setup([
      { id: 'edge-k1', secret: SECRET, not_after: '2020-01-01T00:00:00Z' },
    ]);
    expect(await status(await beaconToken(SECRET, 'edge-k1'))).toBe(401);
    expect(await registry.metrics()).toContain(
      'edge_relay_auth_requests_total{token_id="edge-k1",result="expired"} 1',
    );
  });

  it('stop being accepted, even from the cache, when a reload removes or changes their key', async () => {
    const { status, reload, events, stop } = setup([
      { id: 'edge-k1', secret: SECRET },
      { id: 'edge-k2', secret: OTHER },
    ]);
    const first = await beaconToken(SECRET, 'edge-k1');
    const second = await beaconToken(OTHER, 'edge-k2');
    expect(await status(first)).toBe('beacon:edge-k1');
    expect(await status(second)).toBe('beacon:edge-k2');
    reload([{ id: 'edge-k2', secret: `${OTHER}-rotated` }]);
    expect(await status(first)).toBe(401);
    expect(await status(second)).toBe(401);
    expect(events).toEqual([
      'beacon_key.first_use',
      'beacon_key.first_use',
      'beacon_key.changed',
      'beacon_key.removed',
      'beacon_key.last_use',
    ]);
    stop();
  });

  it('are not taken for OIDC tokens without an issuer, nor the other way round', async () => {
    const { status } = setup();
    const claims = { iat: now(), exp: now() + 60 };
    expect(await status(rawToken({ alg: 'RS256', kid: 'edge-k1' }, claims, 'c2ln'))).toBe(401);
  });
});
