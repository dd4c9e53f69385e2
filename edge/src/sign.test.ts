import { readFileSync } from 'node:fs';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { minify } from 'terser';
import { describe, expect, test, vi } from 'vitest';
import { exampleProperty, SITE, signingTracer, useStubs } from '../test/edge-fixture.ts';
import { crypto } from '../test/shim/crypto.ts';
import { EdgeRequest, Variables } from '../test/shim/edge-request.ts';
import { EdgeServer } from '../test/shim/edge-server.ts';

vi.mock('http-request', () => import('../test/shim/http-request.ts'));
vi.mock('crypto', () => import('../test/shim/crypto.ts'));
vi.mock('log', () => import('../test/shim/log.ts'));

const KEY = 'pNQ0a7kXv2m9ZcW4sR1tYq8uE3oL6hJ5gF0dB2nM7xA=';
/** The signer's own budget: a worker that signs adds this much to its bundle. */
const SIZE_BUDGET = 1280;

const stubs = useStubs();

/** A client response request whose property declares the key variables (with these values). */
function requestWith(variables: Record<string, string>) {
  return new EdgeRequest({ url: `https://${SITE}/` }, new Variables(variables)).view('onClientResponse');
}

describe('beaconToken', () => {
  test.each(['k', 'k1', 'edge-2026-12'])(
    'is an HS256 JWT the relay can verify with the key, named by kid %j',
    async (kid) => {
      const { beaconToken } = await import('./sign.js');
      const token = await beaconToken(
        requestWith({ PMUSER_EDGE_RELAY_KEY: KEY, PMUSER_EDGE_RELAY_KEY_ID: kid }),
        { lifetime: 30 },
      );
      expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', kid });
      const { payload } = await jwtVerify(token, Buffer.from(KEY), { algorithms: ['HS256'] });
      expect((payload.exp as number) - (payload.iat as number)).toBe(30);
      expect(Math.abs((payload.iat as number) - Date.now() / 1000)).toBeLessThan(5);
    },
  );

  test('reads the variables the options name, and is refused without them', async () => {
    const { beaconToken } = await import('./sign.js');
    const request = requestWith({ PMUSER_K: KEY, PMUSER_K_ID: 'k1' });
    const token = await beaconToken(request, { keyVariable: 'PMUSER_K', keyIdVariable: 'PMUSER_K_ID' });
    expect(decodeProtectedHeader(token).kid).toBe('k1');
    await expect(beaconToken(request)).rejects.toMatch(/no key and key id/);
    await expect(
      beaconToken(requestWith({ PMUSER_EDGE_RELAY_KEY: 'clé-pas-ascii', PMUSER_EDGE_RELAY_KEY_ID: 'k1' })),
    ).rejects.toMatch(/of printable ASCII/);
  });
});

describe('signedTracer under the EdgeWorkers shim', () => {
  const worker = (variables: Record<string, string>) =>
    new EdgeServer(signingTracer(), exampleProperty(stubs.origin.url, stubs.relay.url, variables), {
      logging: true,
    });

  test('sends each beacon with a token of its own in the Authorization header', async () => {
    const edge = worker({ PMUSER_EDGE_RELAY_KEY: KEY, PMUSER_EDGE_RELAY_KEY_ID: 'k1' });
    const exchange = await edge.handle({ url: `https://${SITE}/` });
    await edge.settled();
    expect(exchange.errors).toEqual([]);
    const [beacon] = edge.subRequests.records;
    const token = beacon?.headers.authorization?.replace('Bearer ', '') as string;
    expect((await jwtVerify(token, Buffer.from(KEY))).protectedHeader.kid).toBe('k1');
    expect(edge.log).toEqual([]);
  });

  test('without a key still sends the beacon (the relay will refuse it), and logs why', async () => {
    const edge = worker({});
    const exchange = await edge.handle({ url: `https://${SITE}/` });
    await edge.settled();
    expect(exchange.errors).toEqual([]);
    expect(edge.subRequests.records[0]?.headers.authorization).toBeUndefined();
    expect(edge.log.map((line) => line.message)).toEqual([
      'edge-relay: signing: no key and key id of printable ASCII',
    ]);
  });

  test('uses only the HMAC of the crypto module, which the shim refuses to go beyond', async () => {
    await expect(crypto.subtle.importKey('jwk', new Uint8Array(), 'HMAC', false, ['sign'])).rejects.toThrow();
    await expect(
      crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, {} as never, new Uint8Array()),
    ).rejects.toThrow(/HMAC only/);
  });

  test(`minifies to less than ${SIZE_BUDGET} bytes`, async () => {
    const source = readFileSync(new URL('./sign.js', import.meta.url), 'utf8');
    const { code } = await minify(source, { module: true, compress: { passes: 2 } });
    expect(Buffer.byteLength(code ?? '')).toBeLessThan(SIZE_BUDGET);
  });
});
