import { readFileSync } from 'node:fs';
import { watchFiles } from '../lib/watch-files.ts';
import type { Logger } from '../telemetry/logger.ts';
import { loadConfig } from './load-config.ts';
import type { RelayConfig } from './relay-schema.ts';

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
  const reload = (trigger: 'SIGHUP' | 'file') => {
    const text = readText(file);
    if (trigger === 'file' && (text === undefined || text === applied)) return;
    let config: RelayConfig;
    try {
      config = loadConfig(file);
    } catch (err) {
      // Only the first line: a YAML error goes on with an excerpt of the file, which may hold a secret.
      const error = (err as Error).message.split('\n')[0];
      log.error({ trigger, file, error }, 'config reload rejected; the running policies stay');
      return;
    }
    applied = text;
    apply(config);
    log.info({ trigger, file }, 'config reloaded');
  };
  const onSignal = () => reload('SIGHUP');
  process.on('SIGHUP', onSignal);
  const stopWatching = watchFiles(
    [file],
    () => reload('file'),
    (_, err) => log.warn({ file, error: err.message }, 'cannot watch the config file; reload with SIGHUP'),
  );
  return () => {
    process.off('SIGHUP', onSignal);
    stopWatching();
  };
}
