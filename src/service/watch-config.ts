import { resolve } from 'node:path';
import { watchFiles } from '../lib/watch-files.ts';
import type { Logger } from '../telemetry/logger.ts';
import { FilesRead } from './files-read.ts';
import { loadConfig } from './load-config.ts';
import type { RelayConfig } from './relay-schema.ts';
import type { ReloadOrigin } from './reload-plan.ts';

export interface ReloadHandlers {
  apply(config: RelayConfig, origin: ReloadOrigin): void;
  rejected(origin: ReloadOrigin, error: string): void;
}

/**
 * Reloads the config file on SIGHUP and when it, or a file it references with `${file:…}`, changes on
 * disk: validated here, on the main thread, and handed to `apply` only when valid; an invalid config is
 * logged and the running one stays. The watched set follows the references of each reload. Logs name the
 * file that changed, never what it holds. `running` is what the running config was read from. Returns a
 * function that stops watching.
 */
export function watchConfig(
  file: string,
  running: FilesRead,
  log: Logger,
  handlers: ReloadHandlers,
): () => void {
  const configFile = resolve(file);
  const referencedIn = (read: FilesRead): string[] => read.paths.filter((path) => path !== configFile);
  let files = new Set(referencedIn(running));
  /**
   * What the config and its referenced files held when last read, as one digest: a file event that
   * changes none of them (a touch, a sibling file, a second event for one write) reloads nothing.
   */
  let applied = '';
  let stopWatching = () => {};
  const onDisk = (): FilesRead => FilesRead.onDisk([configFile, ...files]);

  const reload = (trigger: ReloadOrigin['trigger'], changed = configFile) => {
    const origin = { trigger, file: trigger === 'SIGHUP' ? configFile : changed };
    if (trigger === 'file' && onDisk().fingerprint() === applied) return;
    const read = new FilesRead();
    let config: RelayConfig;
    try {
      config = loadConfig(configFile, process.env, read);
    } catch (err) {
      // Keep watching a referenced file that is missing for now: its arrival is what fixes the config.
      files = new Set([...files, ...referencedIn(read)]);
      follow(onDisk());
      // Only the first line: a YAML error goes on with an excerpt of the file, which may hold a secret.
      const error = (err as Error).message.split('\n')[0] as string;
      log.error({ ...origin, error }, 'config reload rejected; the running config stays');
      handlers.rejected(origin, error);
      return;
    }
    // The files as this reload read them, not as they are by now: a change since then reloads again.
    files = new Set(referencedIn(read));
    follow(read);
    log.info(origin, 'config reloaded');
    handlers.apply(config, origin);
  };

  /** Watches the config file and `files`, what its references read, taking `read` as applied. */
  function follow(read: FilesRead): void {
    applied = read.fingerprint();
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
  follow(running);
  return () => {
    process.off('SIGHUP', onSignal);
    stopWatching();
  };
}
