import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '../telemetry/logger.ts';
import { loadConfig } from './load-config.ts';
import type { RelayConfig } from './relay-config.ts';

/** Editors and Kubernetes ConfigMaps replace a file in several steps; wait for them to settle. */
const SETTLE_MS = 200;
/** A ConfigMap volume swaps this symlink when its content changes. */
const CONFIGMAP_LINK = '..data';

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Reloads the config file on SIGHUP and when it changes on disk: it is validated here, on the main
 * thread, and handed to `apply` only when valid; an invalid file is logged and the running config stays.
 * Returns a function that stops watching.
 */
export function watchConfig(file: string, log: Logger, apply: (config: RelayConfig) => void): () => void {
  let applied = readText(file);
  let settle: NodeJS.Timeout | undefined;
  const reload = (trigger: 'SIGHUP' | 'file') => {
    const text = readText(file);
    if (trigger === 'file' && (text === undefined || text === applied)) return;
    let config: RelayConfig;
    try {
      config = loadConfig(file);
    } catch (err) {
      // loadConfig's errors never quote the file (a YAML error's excerpt may hold a secret).
      log.error(
        { trigger, file, error: (err as Error).message },
        'config reload rejected; the running policies stay',
      );
      return;
    }
    applied = text;
    apply(config);
    log.info({ trigger, file }, 'config reloaded');
  };
  const onSignal = () => reload('SIGHUP');
  process.on('SIGHUP', onSignal);
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), (_event, name) => {
      if (name !== basename(file) && name !== CONFIGMAP_LINK) return;
      clearTimeout(settle);
      settle = setTimeout(() => reload('file'), SETTLE_MS);
    });
  } catch (err) {
    log.warn({ file, error: (err as Error).message }, 'cannot watch the config file; reload with SIGHUP');
  }
  return () => {
    process.off('SIGHUP', onSignal);
    watcher?.close();
    clearTimeout(settle);
  };
}
