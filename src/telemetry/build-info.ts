import { readFileSync } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';

export interface BuildInfo {
  version: string;
  /** The source commit: EDGE_RELAY_COMMIT (set when the image is built), else the checkout's HEAD, else "unknown". */
  commit: string;
}

const packageRoot = new URL('../../', import.meta.url);

function gitHead(): string | undefined {
  try {
    const head = readFileSync(new URL('.git/HEAD', packageRoot), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head;
    return readFileSync(new URL(`.git/${head.slice(5)}`, packageRoot), 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function buildInfo(env: NodeJS.ProcessEnv = process.env): BuildInfo {
  const pkg = JSON.parse(readFileSync(new URL('package.json', packageRoot), 'utf8')) as { version: string };
  return { version: pkg.version, commit: env.EDGE_RELAY_COMMIT || gitHead() || 'unknown' };
}

/** `edge_relay_build_info{version,node_version,commit} 1`, the Prometheus convention for joining on a build. */
export function registerBuildInfo(registry: Registry, info: BuildInfo): void {
  new Gauge({
    name: 'edge_relay_build_info',
    help: 'Always 1; the labels say which build of the relay runs, on which Node.js',
    labelNames: ['version', 'node_version', 'commit'],
    registers: [registry],
  }).set({ version: info.version, node_version: process.version, commit: info.commit }, 1);
}
