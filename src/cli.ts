#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from './lib/errors.ts';
import { loadConfig } from './service/load-config.ts';
import { startRelay } from './service/start-relay.ts';
import { watchConfig } from './service/watch-config.ts';
import { createLogger } from './telemetry/logger.ts';

const USAGE = `Usage:
  edge-relay [--config FILE]            run the relay (default config: config/relay.yaml)
  edge-relay validate [--config FILE]   check a config file; exits 1 naming the first bad key
  edge-relay --version`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function run(configFile: string): Promise<void> {
  const config = loadConfig(configFile);
  const log = createLogger(config.log.level);
  const relay = await startRelay(config, log);
  const stopWatching = watchConfig(configFile, log, (next) => relay.reload(next));
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without draining');
      process.exit(1);
    }
    stopping = true;
    stopWatching();
    log.info({ signal }, 'draining before exit');
    // Last resort if draining itself hangs: the orchestrator's grace period must not be the one to end it.
    setTimeout(() => process.exit(1), config.shutdown_timeout + 5000).unref();
    relay.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c', default: 'config/relay.yaml' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.version) {
    console.log(version());
    return 0;
  }
  const command = positionals[0] ?? 'run';
  if (command === 'validate') {
    loadConfig(values.config);
    console.log(`${values.config}: valid`);
    return 0;
  }
  if (command !== 'run') {
    console.error(`unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  await run(values.config);
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) console.error(`invalid configuration: ${err.message}`);
    else console.error(err instanceof Error ? err.message : err);
    // Exit now: a relay that failed half-way through starting (a port taken) has worker threads and
    // perhaps the admin server running, which would keep it alive, and healthy to a liveness probe.
    process.exit(1);
  },
);
