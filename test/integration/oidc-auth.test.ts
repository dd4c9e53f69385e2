import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawToken } from '../support/auth-tokens.ts';
import { otlpBody } from '../support/cluster.ts';
import { randomSpanId, randomTraceId } from '../support/ids.ts';
import { OidcIssuer } from '../support/oidc-issuer.ts';
import { OtlpSink } from '../support/otlp-sink.ts';
import { CLI, RelayProcess } from '../support/relay-process.ts';
import { waitFor } from '../support/wait-for.ts';

const IDENTITY = 'edge_relay.client.identity';
const now = () => Math.floor(Date.now() / 1000);

let issuer: OidcIssuer;
let sink: OtlpSink;
let relay: RelayProcess;
let auditFile: string;
/** Every token the tests send: none may appear in the relay's output, metrics or audit log. */
const sent: string[] = [];

beforeAll(async () => {
  issuer = await OidcIssuer.start();
  await issuer.addKey('k1');
  sink = await OtlpSink.start();
  auditFile = join(mkdtempSync(join(tmpdir(), 'edge-relay-oidc-')), 'audit.jsonl');
  relay = await RelayProcess.start({
    receiver: {
      endpoint: '127.0.0.1:0',
      auth: {
        identity_attribute: IDENTITY,
        oidc: {
          issuer_url: issuer.url,
          audience: 'edge-relay',
          // Only the fetches this file asks for: one at start, and those unknown kids cause.
          jwks_refresh_interval: '0s',
          jwks_min_refresh_interval: '1h',
        },
      },
    },
    exporter: { traces_endpoint: sink.url, compression: 'none', retry_on_failure: { enabled: false } },
    batch: { timeout: '10ms' },
    audit: { path: auditFile },
  });
});
afterAll(async () => {
  await relay?.stop();
  await sink?.close();
  await issuer?.close();
});

/** Posts one OTLP/JSON span with a bearer token; the span's id, and the status. */
async function post(token: string, resource: Record<string, string> = {}) {
  sent.push(token);
  const span = { traceId: randomTraceId(), spanId: randomSpanId(), parent: '' };
  const body = JSON.parse(otlpBody(span));
  for (const [key, value] of Object.entries(resource))
    body.resourceSpans[0].resource.attributes.push({ key, value: { stringValue: value } });
  const response = await relay.post('/v1/traces', JSON.stringify(body), { authorization: `Bearer ${token}` });
  await response.arrayBuffer();
  return { status: response.status, spanId: span.spanId };
}

const arrived = (spanId: string) =>
  waitFor(() => sink.spans().find((s) => s.spanId === spanId), `span ${spanId} at the sink`);
const audited = () =>
  readFileSync(auditFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('OIDC bearer tokens at a real relay', () => {
  it('lets a token the issuer signed in, and names its subject on the spans instead of what the client claimed', async () => {
    const { status, spanId } = await post(await issuer.sign('k1'), { [IDENTITY]: 'token:admin' });
    expect(status).toBe(200);
    expect((await arrived(spanId)).resource[IDENTITY]).toBe('oidc:collector-1');
  });

  it.each([
    ['an expired token', () => issuer.sign('k1', { iat: now() - 7200, exp: now() - 3600 })],
    ['a token for another audience', () => issuer.sign('k1', { aud: 'another-service' })],
    [
      'an unsigned (alg none) token',
      async () =>
        rawToken(
          { alg: 'none', kid: 'k1' },
          { iss: issuer.url, aud: 'edge-relay', sub: 'x', exp: now() + 60 },
        ),
    ],
    [
      'an HS256 token signed with the public key',
      async () => {
        const jwk = await issuer.addKey('k-public', { publish: false });
        return new SignJWT({ iss: issuer.url, aud: 'edge-relay', sub: 'mallory', exp: now() + 60 })
          .setProtectedHeader({ alg: 'HS256', kid: 'k-public' })
          .sign(Buffer.from(JSON.stringify(jwk)));
      },
    ],
  ])('refuses %s with 401', async (_what, make) => {
    const { status, spanId } = await post(await make());
    expect(status).toBe(401);
    expect(sink.spans().some((s) => s.spanId === spanId)).toBe(false);
  });

  it('follows a key rotation with one fetch of the keys, and audits it by kid', async () => {
    const retiring = await issuer.sign('k1', { sub: 'before-rotation' });
    expect((await post(retiring)).status).toBe(200);
    const fetchesBefore = issuer.jwksRequests;
    await issuer.addKey('k2');
    issuer.retire('k1');
    const tokens = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => issuer.sign('k2', { sub: `collector-${n}` })),
    );
    const answers = await Promise.all(tokens.map((token) => post(token)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(issuer.jwksRequests).toBe(fetchesBefore + 1);
    expect((await arrived(answers[2]?.spanId as string)).resource[IDENTITY]).toBe('oidc:collector-3');
    const rotation = await waitFor(
      () => audited().find((r) => r.event === 'oidc.keys_rotated'),
      'the rotation in the audit log',
    );
    expect(rotation).toMatchObject({ issuer: issuer.url, added: ['k2'], removed: ['k1'], kids: ['k2'] });
    // Signed by the retired key: refused, even the token the relay had verified before.
    expect((await post(retiring)).status).toBe(401);
    expect((await post(await issuer.sign('k1'))).status).toBe(401);
  });

  it('refuses an unknown kid without fetching the keys again within jwks_min_refresh_interval', async () => {
    const fetchesBefore = issuer.jwksRequests;
    await issuer.addKey('k-unpublished', { publish: false });
    expect((await post(await issuer.sign('k-unpublished'))).status).toBe(401);
    expect(issuer.jwksRequests).toBe(fetchesBefore);
    const metrics = await (await fetch(`http://127.0.0.1:${relay.adminPort}/metrics`)).text();
    // The token verified before the rotation, one new one from the retired key, and this one.
    expect(metrics).toContain('edge_relay_auth_requests_total{token_id="oidc",result="unknown_key"} 3');
    expect(metrics).toContain('edge_relay_auth_requests_total{token_id="oidc",result="expired"} 1');
  });

  it('keeps every token out of its log, its metrics and its audit log, which verifies', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${relay.adminPort}/metrics`)).text();
    const audit = readFileSync(auditFile, 'utf8');
    for (const token of sent) {
      const signature = token.split('.')[2] as string;
      for (const text of [relay.output, metrics, audit]) {
        expect(text).not.toContain(token);
        if (signature.length > 10) expect(text).not.toContain(signature);
      }
    }
    const verified = spawnSync(process.execPath, [CLI, 'audit', 'verify', auditFile], { encoding: 'utf8' });
    expect(verified.status, verified.stdout + verified.stderr).toBe(0);
  });
});
