#!/usr/bin/env node
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { VERSIONS_USAGE, versionsCommand } from './act/versions-command.ts';
import { ConfigError } from './lib/errors.ts';
import { FilesRead } from './service/files-read.ts';
import { loadConfig } from './service/load-config.ts';
import { startRelay } from './service/start-relay.ts';
import { watchConfig } from './service/watch-config.ts';
import { describeVerification, verifyAuditLog } from './telemetry/audit-verify.ts';
import { buildInfo } from './telemetry/build-info.ts';
import { createLogger } from './telemetry/logger.ts';

const USAGE = `Usage:
  edge-relay [--config FILE]            run the relay (default config: config/relay.yaml)
  edge-relay validate [--config FILE]   check a config file; exits 1 naming the first bad key
  edge-relay audit verify FILE          check an audit log's hash chain (with its rotated files);
                                        exits 1 naming the first broken record
  ${VERSIONS_USAGE}
                                        a running relay's version verdicts as a table; exits 1 when
                                        one is regressed, 3 when none could be had (a deploy gate)
  edge-relay --version`;

async function run(configFile: string): Promise<void> {
  const read = new FilesRead();
  const config = loadConfig(configFile, process.env, read);
  const log = createLogger(config.log.level);
  const started = startRelay(config, log, { configFile: resolve(configFile) });
  let stopWatching = () => {};
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
    started
      .then((relay) => relay.stop())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'error while stopping');
          process.exit(1);
        },
      );
  };
  // Before the relay says it is ready: a signal sent as soon as it does must drain, not kill.
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  const relay = await started;
  if (stopping) return;
  stopWatching = watchConfig(configFile, read, log, {
    apply: (next, origin) => relay.reload(next, origin),
    rejected: (origin, error) => relay.reloadRejected(origin, error),
  });
}

async function main(argv: string[]): Promise<number> {
  // Its own options (--admin, --worker, …): parsed by the subcommand, not as the relay's.
  if (argv[0] === 'versions') return versionsCommand(argv.slice(1));
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
    console.log(buildInfo().version);
    return 0;
  }
  const command = positionals[0] ?? 'run';
  if (command === 'validate') {
    loadConfig(values.config);
    console.log(`${values.config}: valid`);
    return 0;
  }
  if (command === 'audit') return auditCommand(positionals.slice(1));
  if (command !== 'run') {
    console.error(`unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  await run(values.config);
  return -1;
}

async function auditCommand([action, file, ...rest]: string[]): Promise<number> {
  if (action !== 'verify' || file === undefined || rest.length > 0) {
    console.error(`usage: edge-relay audit verify FILE\n${USAGE}`);
    return 2;
  }
  const result = await verifyAuditLog(file);
  const line = describeVerification(file, result);
  if (result.broken || result.files.length === 0) {
    console.error(line);
    return 1;
  }
  console.log(line);
  return 0;
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
