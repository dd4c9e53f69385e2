import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Logger } from '../telemetry/logger.ts';
import { readConfig } from './load-config.ts';
import type { RelayConfig } from './relay-schema.ts';
import type { ReloadOrigin } from './start-relay.ts';

/** Editors and Kubernetes ConfigMaps replace a file in several steps; wait for them to settle. */
const SETTLE_MS = 200;
/** A ConfigMap or Secret volume swaps this symlink when its content changes. */
const VOLUME_LINK = '..data';

export interface ReloadHandlers {
  apply(config: RelayConfig, origin: ReloadOrigin): void;
  rejected(origin: ReloadOrigin, error: string): void;
}

/**
 * What the config and its referenced files hold now, as one digest: a file event that changes none of
 * them (a touch, a sibling file, a second event for one write) reloads nothing. A digest rather than the
 * text keeps no second copy of the secrets.
 */
function fingerprint(file: string, referenced: Iterable<string>): string {
  const hash = createHash('sha256');
  for (const path of [file, ...referenced]) {
    hash.update(path).update('\0');
    try {
      hash.update(readFileSync(path));
    } catch {
      hash.update('\0missing');
    }
    hash.update('\0');
  }
  return hash.digest('hex');
}

/**
 * Reloads the config file on SIGHUP and when it, or a file it references with `${file:…}`, changes on
 * disk: validated here, on the main thread, and handed to `apply` only when valid; an invalid config is
 * logged and the running one stays. The watched set follows the references of each reload. Logs name the
 * file that changed, never what it holds. Returns a function that stops watching.
 */
export function watchConfig(
  file: string,
  referenced: readonly string[],
  log: Logger,
  handlers: ReloadHandlers,
): () => void {
  const configFile = resolve(file);
  let files = new Set(referenced);
  let applied = fingerprint(configFile, files);
  let settle: NodeJS.Timeout | undefined;
  let changed = configFile;
  const watchers = new Map<string, FSWatcher>();

  const reload = (trigger: ReloadOrigin['trigger']) => {
    const origin = { trigger, file: trigger === 'SIGHUP' ? configFile : changed };
    if (trigger === 'file' && fingerprint(configFile, files) === applied) return;
    const attempted = new Set<string>();
    let config: RelayConfig;
    try {
      config = readConfig(configFile, process.env, attempted).config;
    } catch (err) {
      // Keep watching a referenced file that is missing for now: its arrival is what fixes the config.
      files = new Set([...files, ...attempted]);
      watchDirectories();
      applied = fingerprint(configFile, files);
      // Only the first line: a YAML error goes on with an excerpt of the file, which may hold a secret.
      const error = (err as Error).message.split('\n')[0] as string;
      log.error({ ...origin, error }, 'config reload rejected; the running config stays');
      handlers.rejected(origin, error);
      return;
    }
    files = attempted;
    watchDirectories();
    applied = fingerprint(configFile, files);
    log.info(origin, 'config reloaded');
    handlers.apply(config, origin);
  };

  const relevant = (directory: string, name: string | null): string | undefined => {
    if (name === null || name === VOLUME_LINK) return directory;
    const path = join(directory, name);
    return path === configFile || files.has(path) ? path : undefined;
  };

  /** One watcher per directory: a Kubernetes volume replaces files by swapping a link beside them. */
  function watchDirectories(): void {
    const wanted = new Set([dirname(configFile), ...[...files].map((path) => dirname(path))]);
    for (const [directory, watcher] of watchers) {
      if (!wanted.has(directory)) {
        watcher.close();
        watchers.delete(directory);
      }
    }
    for (const directory of wanted) {
      if (watchers.has(directory)) continue;
      try {
        const watcher = watch(directory, (_event, name) => {
          const path = relevant(directory, name);
          if (path === undefined) return;
          changed = path;
          clearTimeout(settle);
          settle = setTimeout(() => reload('file'), SETTLE_MS);
        });
        watchers.set(directory, watcher);
      } catch (err) {
        log.warn(
          { directory, file: basename(configFile), error: (err as Error).message },
          'cannot watch a config directory; reload with SIGHUP',
        );
      }
    }
  }

  const onSignal = () => reload('SIGHUP');
  process.on('SIGHUP', onSignal);
  watchDirectories();
  return () => {
    process.off('SIGHUP', onSignal);
    for (const watcher of watchers.values()) watcher.close();
    clearTimeout(settle);
  };
}
