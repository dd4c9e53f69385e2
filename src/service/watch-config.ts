import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { watchFiles } from '../lib/watch-files.ts';
import type { Logger } from '../telemetry/logger.ts';
import { readConfig } from './load-config.ts';
import type { RelayConfig } from './relay-schema.ts';
import type { ReloadOrigin } from './reload-plan.ts';

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
  let stopWatching = () => {};

  const reload = (trigger: ReloadOrigin['trigger'], changed = configFile) => {
    const origin = { trigger, file: trigger === 'SIGHUP' ? configFile : changed };
    if (trigger === 'file' && fingerprint(configFile, files) === applied) return;
    const attempted = new Set<string>();
    let config: RelayConfig;
    try {
      config = readConfig(configFile, process.env, attempted).config;
    } catch (err) {
      // Keep watching a referenced file that is missing for now: its arrival is what fixes the config.
      follow(new Set([...files, ...attempted]));
      // Only the first line: a YAML error goes on with an excerpt of the file, which may hold a secret.
      const error = (err as Error).message.split('\n')[0] as string;
      log.error({ ...origin, error }, 'config reload rejected; the running config stays');
      handlers.rejected(origin, error);
      return;
    }
    follow(attempted);
    log.info(origin, 'config reloaded');
    handlers.apply(config, origin);
  };

  /** Watches the config file and `next`, the files its references read now. */
  function follow(next: Set<string>): void {
    files = next;
    applied = fingerprint(configFile, files);
    stopWatching();
    stopWatching = watchFiles(
      [configFile, ...files],
      (path) => reload('file', path),
      (path, err) =>
        log.warn({ file: path, error: err.message }, 'cannot watch a config file; reload with SIGHUP'),
    );
  }

  const onSignal = () => reload('SIGHUP');
  process.on('SIGHUP', onSignal);
  follow(files);
  return () => {
    process.off('SIGHUP', onSignal);
    stopWatching();
  };
}
