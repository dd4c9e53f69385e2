import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { beaconsSent, exampleProperty, SITE } from '../test/edge-fixture.ts';
import { HttpStub } from '../test/http-stub.ts';
import { EdgeServer, type WorkerModule } from '../test/shim/edge-server.ts';
import { buildBundle } from './build.ts';

vi.mock('http-request', () => import('../test/shim/http-request.ts'));
vi.mock('crypto', () => import('../test/shim/crypto.ts'));
vi.mock('log', () => import('../test/shim/log.ts'));

/** The budget of the issue: the client, minified, under 4 KB. */
const CLIENT_BUDGET = 4096;

describe('the EdgeWorkers code bundle', () => {
  let dir: string;
  let origin: HttpStub;
  let relay: HttpStub;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edgeworker-build-test-'));
    origin = await HttpStub.start(200);
    relay = await HttpStub.start(202);
  });
  afterAll(async () => {
    await origin.close();
    await relay.close();
  });

  test('holds main.js and bundle.json at its root, the minified client and the baked-in settings', async () => {
    const result = await buildBundle({
      id: '42817',
      url: 'https://edge-relay.example.com/v1/beacons',
      out: join(dir, 'bundle.tgz'),
    });
    const extracted = join(dir, 'extracted');
    mkdirSync(extracted);
    execFileSync('tar', ['-xzf', result.tarball, '-C', extracted]);

    expect(readdirSync(extracted).sort()).toEqual(['bundle.json', 'edge-relay.js', 'main.js', 'settings.js']);
    expect(result.version).toBe('1.0.0');
    expect(result.sizes['edge-relay.js']).toBeLessThan(CLIENT_BUDGET);
    expect(readFileSync(join(extracted, 'main.js'), 'utf8')).toContain("from './edge-relay.js'");

    // The uploaded artifact itself runs: one request through it yields a beacon with the baked-in identity.
    const edge = new EdgeServer(
      () => import(pathToFileURL(join(extracted, 'main.js')).href) as Promise<WorkerModule>,
      exampleProperty(origin.url, relay.url),
    );
    const exchange = await edge.handle({ url: `https://${SITE}/product/7` });
    await edge.settled();
    expect(exchange.errors).toEqual([]);
    expect(beaconsSent(edge)[0]).toMatchObject({
      worker: { id: '42817', version: '1.0.0' },
      spans: [{ name: 'GET /product/:id' }, { name: 'origin GET' }],
    });
    expect(edge.subRequests.records.map((r) => [r.url, r.outcome])).toEqual([
      ['https://edge-relay.example.com/v1/beacons', 202],
    ]);
  });

  test('without --url, the worker posts to the URL the property sets in PMUSER_EDGE_RELAY_URL', async () => {
    const result = await buildBundle({ id: '42817', out: join(dir, 'no-url.tgz') });
    const extracted = join(dir, 'no-url');
    mkdirSync(extracted);
    execFileSync('tar', ['-xzf', result.tarball, '-C', extracted]);
    expect(readFileSync(join(extracted, 'settings.js'), 'utf8')).not.toContain('url');

    const edge = new EdgeServer(
      () => import(pathToFileURL(join(extracted, 'main.js')).href) as Promise<WorkerModule>,
      exampleProperty(origin.url, relay.url, {
        PMUSER_EDGE_RELAY_URL: 'https://edge-relay.example.com/v1/beacons',
      }),
    );
    await edge.handle({ url: `https://${SITE}/` });
    await edge.settled();
    expect(edge.subRequests.records.map((r) => [r.url, r.outcome])).toEqual([
      ['https://edge-relay.example.com/v1/beacons', 202],
    ]);
  });

  test.each([
    [{ id: 'shop', url: '/v1/beacons' }, '--id'],
    [{ id: '42817', url: 'https://edge-relay.example.com:4318/v1/beacons' }, '--url'],
    [{ id: '42817', url: 'edge-relay.example.com/v1/beacons' }, '--url'],
  ])('refuses %o, naming %s', async (options, key) => {
    await expect(buildBundle({ ...options, out: join(dir, 'refused.tgz') })).rejects.toThrow(key);
  });
});
