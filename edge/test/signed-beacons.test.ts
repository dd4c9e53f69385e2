import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { OtlpSink } from '../../test/support/otlp-sink.ts';
import { RelayProcess } from '../../test/support/relay-process.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { beaconsSent, exampleProperty, handlerTimes, SITE, signingTracer } from './edge-fixture.ts';
import { HttpStub } from './http-stub.ts';
import { EdgeServer } from './shim/edge-server.ts';

vi.mock('http-request', () => import('./shim/http-request.ts'));
vi.mock('crypto', () => import('./shim/crypto.ts'));
vi.mock('log', () => import('./shim/log.ts'));

const SECRET = 'Xq3vN8dKp1Lw6Zr0Tb4Hs9Jm2Yc7Fg5Ae8Ud0Ko3Wi=';
const IDENTITY = 'edge_relay.client.identity';

let sink: OtlpSink;
let origin: HttpStub;
let relay: RelayProcess;

beforeAll(async () => {
  sink = await OtlpSink.start();
  origin = await HttpStub.start(200);
  const secretFile = join(mkdtempSync(join(tmpdir(), 'edge-relay-key-')), 'beacon-key');
  writeFileSync(secretFile, `${SECRET}\n`);
  relay = await RelayProcess.start({
    receiver: {
      endpoint: '127.0.0.1:0',
      auth: {
        beacon_keys: [{ id: 'edge-k1', secret: `\${file:${secretFile}}` }],
        beacon_token_max_lifetime: '2m',
        identity_attribute: IDENTITY,
      },
    },
    exporter: { traces_endpoint: sink.url, compression: 'none', retry_on_failure: { enabled: false } },
    batch: { timeout: '10ms' },
  });
});
afterAll(async () => {
  await relay?.stop();
  await sink?.close();
  await origin?.close();
});

/** The example property, with the signing key and its id in its variables. */
const signingEdge = (variables: Record<string, string>) =>
  new EdgeServer(signingTracer({ id: '7', version: '2' }), exampleProperty(origin.url, relay.url, variables));

/** One request through a signing worker at `t`: the beacon sub-request's outcome and what it sent. */
async function traced(variables: Record<string, string>, t = Date.now()) {
  const edge = signingEdge(variables);
  const exchange = await edge.handle({ url: `https://${SITE}/cart`, times: handlerTimes(t) });
  await edge.settled();
  expect(exchange.errors).toEqual([]);
  const [sub] = edge.subRequests.records;
  return {
    outcome: sub?.outcome,
    beacon: beaconsSent(edge)[0],
    headers: sub?.headers ?? {},
    body: sub?.body ?? '',
  };
}

const KEYED = { PMUSER_EDGE_RELAY_KEY: SECRET, PMUSER_EDGE_RELAY_KEY_ID: 'edge-k1' };
const tokensSent: string[] = [];

describe('beacons signed by the edge client under the shim, at a real relay', () => {
  test('are accepted, and their spans name the key they were signed with', async () => {
    const { outcome, beacon, headers } = await traced(KEYED);
    tokensSent.push(headers.authorization ?? '');
    expect(outcome).toBe(202);
    const spans = await waitFor(() => {
      const found = sink.spans().filter((s) => s.traceId === beacon?.traceId);
      return found.length > 0 && found;
    }, 'the signed beacon at the sink');
    expect(spans[0]?.resource[IDENTITY]).toBe('beacon:edge-k1');
  });

  test('expired (signed ten minutes ago) are refused with 401', async () => {
    const { outcome } = await traced(KEYED, Date.now() - 600_000);
    expect(outcome).toBe(401);
  });

  test('naming a key the relay does not have are refused with 401', async () => {
    expect((await traced({ ...KEYED, PMUSER_EDGE_RELAY_KEY_ID: 'edge-k9' })).outcome).toBe(401);
  });

  test('tampered with, or signed with another key, are refused with 401', async () => {
    const { headers, body } = await traced(KEYED);
    const [header, , signature] = (headers.authorization ?? '').replace('Bearer ', '').split('.');
    const now = Math.floor(Date.now() / 1000);
    const longer = Buffer.from(JSON.stringify({ iat: now, exp: now + 100 })).toString('base64url');
    const tampered = `${header}.${longer}.${signature}`;
    tokensSent.push(tampered);
    const answer = await relay.post('/v1/beacons', body, { authorization: `Bearer ${tampered}` });
    expect(answer.status).toBe(401);
    const other = await traced({ ...KEYED, PMUSER_EDGE_RELAY_KEY: SECRET.replace('X', 'Y') });
    tokensSent.push(other.headers.authorization ?? '');
    expect(other.outcome).toBe(401);
  });

  test('leave neither the key nor a token in the relay’s log or metrics', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${relay.adminPort}/metrics`)).text();
    // The first beacon, and the one whose token the tampering test took.
    expect(metrics).toContain('edge_relay_auth_requests_total{token_id="edge-k1",result="accepted"} 2');
    expect(metrics).toContain('edge_relay_auth_requests_total{token_id="edge-k1",result="expired"} 1');
    expect(metrics).toContain('edge_relay_auth_requests_total{token_id="edge-k1",result="invalid"} 2');
    expect(metrics).toContain('edge_relay_auth_requests_total{token_id="",result="unknown_key"} 1');
    for (const text of [relay.output, metrics]) {
      expect(text).not.toContain(SECRET);
      for (const token of tokensSent) expect(text).not.toContain(token.split('.')[2]);
    }
  });
});
