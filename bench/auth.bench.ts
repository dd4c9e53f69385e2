/**
 * Cost of receiver.auth on the ack path: what the onRequest hook's auth check costs per request, for a
 * static bearer token, a JWT already verified (a digest and a cache lookup, synchronous), and a JWT seen
 * for the first time (jose's signature and claims check, asynchronous): OIDC ES256 and RS256 tokens
 * against a test issuer on 127.0.0.1, and HS256 beacon tokens. Each synchronous measure is the median
 * of five rounds, taken in turn, since the machine is shared. (Whole requests through fastify cost
 * ~25–30 µs on a bare route, /work/shared/design-notes.md: a few µs of auth are below what a whole-request
 * measure here can tell apart.)
 *
 *   node bench/auth.bench.ts            prints a table and one JSON line
 *
 * Bounded: at most 20,000 calls or 2 s per measure; the uncached measures verify 2,000 distinct tokens.
 */
import { Registry } from 'prom-client';
import { RequestError } from '../src/lib/errors.ts';
import { ReceiverAuth } from '../src/receive/auth/receiver-auth.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { authConfig, beaconToken } from '../test/support/auth-tokens.ts';
import { OidcIssuer } from '../test/support/oidc-issuer.ts';
import { perCall } from './per-call.ts';

const STATIC = 'static-bearer-token-0123456789abcdef';
const SECRET = 'bench-beacon-key-0123456789abcdefghijkl';
const UNCACHED = 2000;

const issuer = await OidcIssuer.start();
await issuer.addKey('es', { alg: 'ES256' });
await issuer.addKey('rs', { alg: 'RS256' });
const auth = new ReceiverAuth(
  authConfig({
    tokens: [{ id: 'static', value: STATIC }],
    beacon_keys: [{ id: 'edge-k1', secret: SECRET }],
    identity_attribute: 'edge_relay.client.identity',
    token_cache_size: 3 * UNCACHED + 10,
    oidc: { issuer_url: issuer.url, audience: 'edge-relay', jwks_refresh_interval: '0s' },
  }),
  { registry: new Registry(), clientIp: (peer) => peer, log: createLogger('silent') },
);
const headers = (token: string) => ({ authorization: `Bearer ${token}` });
const check = (token: string) => auth.authenticate(headers(token), '127.0.0.1');

async function accepted(token: string): Promise<void> {
  const verdict = await check(token);
  if (verdict instanceof RequestError) throw new Error(`refused: ${verdict.message}`);
}

/** CPU and wall µs per first verification of each token, one after the other. */
async function perFirstCheck(tokens: string[]): Promise<{ cpu: number; wall: number }> {
  const start = process.cpuUsage();
  const t0 = performance.now();
  for (const token of tokens) await accepted(token);
  const used = process.cpuUsage(start);
  return {
    cpu: (used.user + used.system) / tokens.length,
    wall: ((performance.now() - t0) * 1000) / tokens.length,
  };
}

const distinct = (sign: (n: number) => Promise<string>) =>
  Promise.all(Array.from({ length: UNCACHED }, (_, n) => sign(n)));
const esTokens = await distinct((n) => issuer.sign('es', { jti: `es-${n}` }));
const rsTokens = await distinct((n) => issuer.sign('rs', { jti: `rs-${n}` }));
const beaconTokens = await distinct((n) => beaconToken(SECRET, 'edge-k1', { jti: `b-${n}` }));
// The first check waits for the issuer's keys; the warm-up tokens are then verified and cached.
for (const token of [...esTokens.slice(0, 200), ...rsTokens.slice(0, 200), ...beaconTokens.slice(0, 200)])
  await accepted(token);

const results: Record<string, number> = {};
const record = (name: string, { cpu, wall }: { cpu: number; wall: number }) => {
  results[`${name}_cpu_us`] = Number(cpu.toFixed(2));
  results[`${name}_wall_us`] = Number(wall.toFixed(2));
};
const synchronous: [string, string][] = [
  ['static_token', STATIC],
  ['cached_oidc_es256', esTokens[0] as string],
  ['cached_oidc_rs256', rsTokens[0] as string],
  ['cached_beacon_hs256', beaconTokens[0] as string],
];
const rounds = new Map<string, { cpu: number; wall: number }[]>();
for (let round = 0; round < 5; round++) {
  for (const [name, token] of synchronous)
    rounds.set(name, [...(rounds.get(name) ?? []), perCall(() => check(token))]);
}
const median = (values: number[]) =>
  values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
for (const [name, measured] of rounds) {
  record(name, { cpu: median(measured.map((m) => m.cpu)), wall: median(measured.map((m) => m.wall)) });
}
record('uncached_oidc_es256', await perFirstCheck(esTokens.slice(200)));
record('uncached_oidc_rs256', await perFirstCheck(rsTokens.slice(200)));
record('uncached_beacon_hs256', await perFirstCheck(beaconTokens.slice(200)));

auth.stop();
await issuer.close();
console.table(results);
console.log(JSON.stringify({ bench: 'auth', ...results }));
