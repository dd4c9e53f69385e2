/**
 * Builds the code bundle an EdgeWorkers upload takes: a .tgz with main.js and bundle.json at its root,
 * the client minified as edge-relay.js, and settings.js with the EdgeWorker id and the version from
 * bundle.json baked in (the worker cannot learn them at run time), and the beacon URL when given (the
 * property's PMUSER_EDGE_RELAY_URL, set per property and environment, takes precedence at run time).
 *
 *   node edge/example/build.ts --id 42817 [--url https://edge-relay.example.com/v1/beacons] [--service NAME] [--out FILE]
 *
 * EDGE_RELAY_TOKEN, when set, is baked in as the bearer token for a relay with receiver.auth.tokens:
 * anyone who can read the bundle can read it. PMUSER_EDGE_RELAY_TOKEN keeps it out of the bundle.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { minify } from 'terser';

const EXAMPLE = import.meta.dirname;
const CLIENT = join(EXAMPLE, '..', 'src', 'index.js');
const CLIENT_IMPORT = "from '../src/index.js'";

export interface BuildOptions {
  /** EdgeWorker id, as Akamai assigned it. */
  id: string;
  /** Beacon endpoint: a path on the property, or an https URL without a port; else from the property. */
  url?: string;
  service?: string;
  token?: string;
  /** Tarball path; default dist/edgeworker/example-VERSION.tgz. */
  out?: string;
}

export interface BuildResult {
  tarball: string;
  version: string;
  /** Bytes of each file in the bundle. */
  sizes: Record<string, number>;
}

function check(options: BuildOptions): void {
  if (!/^\d+$/.test(options.id))
    throw new Error(`--id: ${JSON.stringify(options.id)} is not an EdgeWorker id`);
  // EdgeWorkers sub-requests take no port, and reach only hostnames served through a property.
  if (options.url !== undefined && !/^(https?:\/\/[a-z0-9.-]+)?\/\S*$/i.test(options.url))
    throw new Error(
      `--url: ${JSON.stringify(options.url)} is neither a path nor an http(s) URL without a port`,
    );
}

export async function buildBundle(options: BuildOptions): Promise<BuildResult> {
  check(options);
  const bundleJson = readFileSync(join(EXAMPLE, 'bundle.json'), 'utf8');
  const version = (JSON.parse(bundleJson) as { 'edgeworker-version': string })['edgeworker-version'];
  const main = readFileSync(join(EXAMPLE, 'main.js'), 'utf8');
  if (main.split(CLIENT_IMPORT).length !== 2)
    throw new Error(`main.js must import the client ${CLIENT_IMPORT}`);
  const client = await minify(readFileSync(CLIENT, 'utf8'), { module: true, compress: { passes: 2 } });
  const settings = {
    ...(options.url ? { url: options.url } : {}),
    worker: { id: options.id, version },
    service: options.service ?? 'shop-edge',
    ...(options.token ? { token: options.token } : {}),
  };
  const files: Record<string, string> = {
    'main.js': main.replace(CLIENT_IMPORT, "from './edge-relay.js'"),
    'edge-relay.js': client.code ?? '',
    'settings.js': `export const settings = ${JSON.stringify(settings)};\n`,
    'bundle.json': bundleJson,
  };

  const staging = mkdtempSync(join(tmpdir(), 'edgeworker-bundle-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(staging, name), text);
    const tarball = resolve(options.out ?? join('dist', 'edgeworker', `example-${version}.tgz`));
    mkdirSync(dirname(tarball), { recursive: true });
    execFileSync('tar', ['-czf', tarball, '-C', staging, ...Object.keys(files)]);
    const sizes = Object.fromEntries(
      Object.keys(files).map((name) => [name, statSync(join(staging, name)).size]),
    );
    return { tarball, version, sizes };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      id: { type: 'string' },
      url: { type: 'string' },
      service: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (!values.id) {
    console.error(
      'usage: node edge/example/build.ts --id EDGEWORKER_ID [--url BEACON_URL] [--service NAME] [--out FILE]',
    );
    process.exit(2);
  }
  try {
    const result = await buildBundle({
      id: values.id,
      url: values.url,
      service: values.service,
      out: values.out,
      token: process.env.EDGE_RELAY_TOKEN || undefined,
    });
    console.log(`${result.tarball} (version ${result.version})`);
    for (const [name, size] of Object.entries(result.sizes)) console.log(`  ${name}  ${size} B`);
  } catch (err) {
    console.error(`build failed: ${(err as Error).message}`);
    process.exit(1);
  }
}
