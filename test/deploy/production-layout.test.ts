import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpSink } from '../support/otlp-sink.ts';
import { RelayProcess } from '../support/relay-process.ts';
import { waitFor } from '../support/wait-for.ts';
import { CHART_DIR } from './chart.ts';

/**
 * Rebuilds the file layout of the Dockerfile's runtime stage (production dependencies from the lockfile,
 * compiled output, the COPY'd folders) in a temporary directory, following the Dockerfile's own COPY lines,
 * and runs the relay from it: a runtime dependency that is only a devDependency fails here.
 */

const REPO = new URL('../../', import.meta.url).pathname;
const NPM_CLI = process.env.npm_execpath?.endsWith('npm-cli.js')
  ? process.env.npm_execpath
  : '/usr/lib/node_modules/npm/bin/npm-cli.js';

interface Stage {
  name: string;
  lines: string[];
}

function dockerfileStages(): Stage[] {
  const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const stages: Stage[] = [];
  for (const line of text.split('\n').map((l) => l.trim())) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(line);
    if (from) stages.push({ name: from[1] as string, lines: [] });
    else if (line && !line.startsWith('#')) stages.at(-1)?.lines.push(line);
  }
  return stages;
}

const stages = dockerfileStages();

/** The image's ENTRYPOINT, e.g. ["node", "--v8-pool-size=0", "/app/dist/cli.js"]. */
const ENTRYPOINT = JSON.parse(
  /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync(join(REPO, 'Dockerfile'), 'utf8'))?.[1] ?? '[]',
) as string[];
/** The entrypoint's arguments to node, with the script relative to the layout's /app. */
const entrypointArgs = (): string[] => ENTRYPOINT.slice(1).map((arg) => arg.replace(/^\/app\//, ''));
const stage = (name: string): Stage => {
  const found = stages.find((s) => s.name === name);
  if (!found) throw new Error(`Dockerfile has no stage "${name}"`);
  return found;
};

/** The `npm ci ...` arguments of the deps stage, run offline from the npm cache. */
function installProductionDependencies(dir: string): void {
  const run = stage('deps').lines.find((line) => /^RUN\b.*\bnpm ci\b/.test(line)) as string;
  const args = (run.slice(run.indexOf('npm ci') + 'npm '.length) as string).split(/\s+/).filter(Boolean);
  expect(args).toContain('--omit=dev');
  cpSync(join(REPO, 'package.json'), join(dir, 'package.json'));
  cpSync(join(REPO, 'package-lock.json'), join(dir, 'package-lock.json'));
  execFileSync(process.execPath, [NPM_CLI, ...args, '--offline', '--loglevel=error'], {
    cwd: dir,
    stdio: 'pipe',
  });
}

function compile(dir: string): void {
  execFileSync(
    process.execPath,
    [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--outDir', join(dir, 'dist')],
    {
      cwd: REPO,
      stdio: 'pipe',
    },
  );
}

/** Applies the runtime stage's COPY lines: `--from=<stage> /app/<path>` from that stage's directory, else from the repo. */
function assembleRuntime(app: string, stageDirs: Record<string, string>): string[] {
  const copied: string[] = [];
  for (const line of stages.at(-1)?.lines ?? []) {
    const copy = /^COPY\s+(?:--from=(\S+)\s+)?(\S+)\s+(\S+)$/.exec(line);
    if (!copy) continue;
    const [, from, source, target] = copy as unknown as [string, string | undefined, string, string];
    const base = from ? stageDirs[from] : REPO;
    if (!base) throw new Error(`no directory for Dockerfile stage ${from}`);
    const path = join(base, from ? source.replace(/^\/app\//, '') : source);
    expect(existsSync(path), `${line}: ${path} exists`).toBe(true);
    const to =
      target.endsWith('/') || target === './'
        ? join(app, source.split('/').at(-1) as string)
        : join(app, target);
    cpSync(path, to, { recursive: true, verbatimSymlinks: true });
    copied.push(to.slice(app.length + 1));
  }
  return copied;
}

/** The test beacon NOTES.txt tells users to post. */
function notesBeacon(): string {
  const notes = readFileSync(join(CHART_DIR, 'templates/NOTES.txt'), 'utf8');
  return /--data-binary '(\{.*\})'/.exec(notes)?.[1] as string;
}

describe('the container image layout (Dockerfile runtime stage)', () => {
  let root: string;
  let app: string;
  let copied: string[];
  let relay: RelayProcess | undefined;
  let sink: OtlpSink;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'edge-relay-image-'));
    const stageDirs = { deps: join(root, 'deps'), build: join(root, 'build') };
    for (const dir of Object.values(stageDirs)) mkdirSync(dir);
    installProductionDependencies(stageDirs.deps);
    compile(stageDirs.build);
    app = join(root, 'app');
    mkdirSync(app);
    copied = assembleRuntime(app, stageDirs);
  }, 120_000);

  afterAll(async () => {
    await relay?.stop('SIGKILL');
    await sink?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('the build context (.dockerignore) admits every file the Dockerfile copies from it, and little else', () => {
    const ignore = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n');
    expect(ignore).toContain('*');
    const admitted = new Set(
      ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, '')),
    );
    const fromContext = stages
      .flatMap((s) => s.lines)
      .map((line) => /^COPY\s+(?!--from)(.+)\s+\S+$/.exec(line)?.[1])
      .filter((sources): sources is string => sources !== undefined)
      .flatMap((sources) => sources.split(/\s+/));
    expect(fromContext.length).toBeGreaterThan(5);
    expect(new Set(fromContext)).toEqual(admitted);
  });

  it('holds production dependencies only', () => {
    expect(copied).toEqual(
      expect.arrayContaining(['node_modules', 'dist', 'package.json', 'proto', 'config']),
    );
    expect(existsSync(join(app, 'node_modules/fastify'))).toBe(true);
    for (const devOnly of ['vitest', 'typescript', '@biomejs/biome', 'node', 'autocannon']) {
      expect(existsSync(join(app, 'node_modules', devOnly)), devOnly).toBe(false);
    }
  });

  it('starts through bin/edge-relay with the same node options as the image entrypoint', () => {
    expect(readFileSync(join(REPO, 'bin/edge-relay'), 'utf8')).toContain(
      `exec "$node" ${ENTRYPOINT.slice(1, -1).join(' ')} "$root/dist/cli.js"`,
    );
  });

  it('validates its bundled config as the image entrypoint would', () => {
    const out = execFileSync(
      process.execPath,
      [...entrypointArgs(), 'validate', '--config', 'config/relay.yaml'],
      {
        cwd: app,
        env: { PATH: process.env.PATH },
      },
    );
    expect(out.toString()).toContain('valid');
  });

  it('starts, acknowledges the NOTES.txt beacon, exports it and drains on SIGTERM', async () => {
    sink = await OtlpSink.start();
    relay = await RelayProcess.start(
      {
        workers: { threads: 1 },
        batch: { timeout: '50ms' },
        exporter: { traces_endpoint: sink.url, headers: {} },
      },
      { NODE_ENV: 'production' },
      { nodeArgs: entrypointArgs(), cwd: app },
    );

    const response = await relay.post('/v1/beacons', notesBeacon());
    expect(response.status).toBe(202);
    const spans = await waitFor(() => sink.spans().length > 0 && sink.spans(), 'the span at the sink');
    expect(spans[0]?.name).toBe('GET /product/:id');
    expect(spans[0]?.resource['akamai.edge.pop']).toBe('FRA');

    expect(await relay.stop(), relay.output).toBe(0);
  });
});
