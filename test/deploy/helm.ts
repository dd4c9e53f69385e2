import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CHART_DIR, NAMESPACE, RELEASE } from './chart.ts';

/**
 * Running helm on the chart, where a helm binary is available (HELM=/path/to/helm, or helm on PATH).
 * Without one the render tests are skipped, saying so.
 */

function findHelm(): string | undefined {
  if (process.env.HELM) return process.env.HELM;
  return (process.env.PATH ?? '')
    .split(delimiter)
    .map((dir) => join(dir, 'helm'))
    .find((file) => existsSync(file));
}

export const helm = findHelm();
if (!helm) console.info('no helm binary (set HELM or put helm on PATH): helm lint and helm template skipped');

export type Manifest = Record<string, any>;

const templateArgs = (args: string[]): string[] => [
  'template',
  RELEASE,
  CHART_DIR,
  '--namespace',
  NAMESPACE,
  ...args,
];

/** `helm template` with these arguments, as objects (empty documents left out). */
export function template(args: string[]): Manifest[] {
  const out = execFileSync(helm as string, templateArgs(args), { encoding: 'utf8' });
  return parseAllDocuments(out)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
}

/** What `helm template` prints on stderr when it refuses these arguments. */
export const templateError = (args: string[]): string =>
  spawnSync(helm as string, templateArgs(args), { encoding: 'utf8' }).stderr;

/** `helm lint --strict` with these arguments: its exit status and output. */
export function lint(args: string[]): { status: number | null; output: string } {
  const result = spawnSync(helm as string, ['lint', '--strict', CHART_DIR, ...args], { encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

export const find = (manifests: Manifest[], kind: string): Manifest | undefined =>
  manifests.find((m) => m.kind === kind);

export const workload = (manifests: Manifest[]): Manifest =>
  (find(manifests, 'Deployment') ?? find(manifests, 'StatefulSet')) as Manifest;
