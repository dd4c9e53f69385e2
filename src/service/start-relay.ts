import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { missingExporterSetting } from '../export/config.ts';
import { Handoff } from '../handoff/handoff.ts';
import { parseEndpoint } from '../lib/endpoint.ts';
import { Admission } from '../receive/admission.ts';
import { ReceiverAuth } from '../receive/auth.ts';
import { clientIp } from '../receive/client-ip.ts';
import type { IngestContext } from '../receive/ingest-context.ts';
import { containerMemory, memoryLimits } from '../receive/memory-limit.ts';
import { createReceiver } from '../receive/receiver-server.ts';
import { samplingSetup } from '../sample/sampling-setup.ts';
import { spansAccepted, tally } from '../telemetry/accounting.ts';
import { createAdminServer } from '../telemetry/admin-server.ts';
import { AuditLog, type AuditSink, NO_AUDIT } from '../telemetry/audit-log.ts';
import type { Logger } from '../telemetry/logger.ts';
import { RelayMetrics } from '../telemetry/metrics.ts';
import {
  allocateSamplingMetrics,
  PolicySlots,
  registerSamplingMetrics,
} from '../telemetry/sampling-metrics.ts';
import { allocateSharedMetrics, SharedMetricsReader } from '../telemetry/shared-metrics.ts';
import { resolveThreads } from '../worker/config.ts';
import { ShardPool } from '../worker/shard-pool.ts';
import type { WorkerSections } from '../worker/worker-data.ts';
import type { RelayConfig } from './relay-schema.ts';
import { applied, configDigest, planReload, sectionDigests } from './reload-plan.ts';
import { startCluster } from './start-cluster.ts';

/** What set off a reload, for the log and the audit record. */
export interface ReloadOrigin {
  trigger: 'SIGHUP' | 'file';
  /** The file whose change set it off: the config file, or one of its `${file:…}` references. */
  file: string;
}

export interface Relay {
  readonly receiverPort: number;
  readonly adminPort: number;
  /**
   * Applies what a reloaded config changes in `tail_sampling`, `receiver.auth` and `exporter.headers`;
   * other changes are logged as needing a restart.
   */
  reload(config: RelayConfig, origin: ReloadOrigin): void;
  /** Records a reload that was refused (an invalid file) in the audit log. */
  reloadRejected(origin: ReloadOrigin, error: string): void;
  /** Fails readiness, stops ingest, drains the workers by the shutdown timeout. */
  stop(): Promise<void>;
  /** The audit log (a no-op without `audit.path`), for events from outside the relay's own wiring. */
  readonly audit: AuditSink;
}

export interface RelayOptions {
  /** The config file's path, named in the audit log. */
  configFile?: string;
  version?: string;
}

function announceExport(config: RelayConfig, log: Logger): void {
  const missing = missingExporterSetting(config.exporter);
  if (missing === undefined) {
    log.info({ endpoint: config.exporter.traces_endpoint }, 'exporting spans as OTLP/HTTP protobuf');
    return;
  }
  log.warn(
    { missing },
    `${missing} is empty, so spans go to the debug exporter on stdout. To send them to Lightstep, ` +
      'set LIGHTSTEP_ACCESS_TOKEN (the bundled config sends to Lightstep when it is set), or set ' +
      'exporter.traces_endpoint and exporter.headers for any OTLP/HTTP backend.',
  );
}

/** What the audit log says of a start: which config (by digest, secrets redacted) and which tokens, by id. */
function startedRecord(config: RelayConfig, options: RelayOptions): Record<string, unknown> {
  const tokens = config.receiver.auth.tokens.map(({ id, not_before, not_after }) => ({
    id,
    not_before,
    not_after,
  }));
  return {
    version: options.version,
    config_file: options.configFile,
    config_digest: configDigest(config),
    sections: sectionDigests(config),
    tokens,
    host: hostname(),
    pid: process.pid,
  };
}

/** Starts the worker shards, the receiver and the admin server: the whole relay in one process. */
export async function startRelay(
  config: RelayConfig,
  log: Logger,
  options: RelayOptions = {},
): Promise<Relay> {
  const auditLog = await AuditLog.open(config.audit, log);
  const audit = auditLog ?? NO_AUDIT;
  // First, so that what the token table says about expired tokens at start follows it.
  audit.record('relay.started', startedRecord(config, options));
  const threads = resolveThreads(config.workers, config.tail_sampling?.num_shards);
  const sharedMetrics = allocateSharedMetrics(threads);
  const reader = new SharedMetricsReader(sharedMetrics);
  const metrics = new RelayMetrics(reader);
  const samplingMetrics = allocateSamplingMetrics(threads);
  const policySlots = new PolicySlots();
  registerSamplingMetrics(metrics.registry, samplingMetrics, policySlots);
  let ready = false;
  const admission = new Admission({
    limits: memoryLimits(config.memory_limiter, containerMemory()),
    shared: reader,
    rss: process.memoryUsage.rss,
    registry: metrics.registry,
    log,
  });

  const ipOf = clientIp(config.receiver.trusted_proxies);
  const auth = new ReceiverAuth(config.receiver.auth, {
    registry: metrics.registry,
    clientIp: ipOf,
    log,
    audit,
  });

  const shared = {
    metrics: sharedMetrics,
    samplingMetrics,
    sampling: samplingSetup(config.tail_sampling, threads, policySlots),
  };
  const sections: WorkerSections = {
    log_level: config.log.level,
    nice: config.workers.nice,
    enrichment: config.enrichment,
    cluster: config.cluster,
    batch: config.batch,
    exporter: config.exporter,
    debug: config.debug,
    peer_token: auth.peerToken(),
  };
  const pool = await ShardPool.start(sections, threads, shared, log, (error) => {
    // A shard that dies takes its buffered traces with it: stop being ready so traffic moves elsewhere,
    // and exit so the orchestrator restarts the process.
    ready = false;
    log.fatal({ err: error }, 'a worker shard died; exiting');
    process.exitCode = 1;
    setImmediate(() => process.exit(1));
  });
  const ingest: IngestContext = {
    handoff: new Handoff(pool, reader, config.workers.max_pending_bytes),
    shards: threads,
    metrics,
    admission,
    clientIp: ipOf,
    accepting: true,
  };
  const receiver = createReceiver(config.receiver, ingest, log, auth);
  const cluster = startCluster(config, pool, receiver, ingest, () => auth.peerToken(), log);
  // The peer token follows reloads and token windows; posted to the workers only when it changes.
  let peerToken = sections.peer_token;
  auth.onChange(() => {
    const token = auth.peerToken();
    if (token === peerToken) return;
    peerToken = token;
    pool.broadcast({ type: 'peer_token', token });
  });
  const admin = createAdminServer(metrics, () => ready);

  await admin.listen(parseEndpoint(config.admin.endpoint));
  await receiver.listen(parseEndpoint(config.receiver.endpoint));
  admission.start(config.memory_limiter.check_interval);
  await cluster?.join();
  ready = true;
  const receiverPort = (receiver.server.address() as AddressInfo).port;
  const adminPort = (admin.server.address() as AddressInfo).port;
  log.info({ receiver: receiverPort, admin: adminPort, threads }, 'edge-relay is ready');
  announceExport(config, log);

  // The config as it runs (start plus the reloaded parts) and as last loaded (what the next reload is compared to).
  let running = config;
  let loaded = config;
  return {
    receiverPort,
    adminPort,
    audit,
    reload(next, origin) {
      const plan = planReload(running, loaded, next);
      loaded = next;
      running = applied(running, next, plan);
      const restart = plan.restart.map(({ key }) => key);
      // Before applying: the token events a reload causes follow the record of the reload.
      audit.record('config.reloaded', {
        ...origin,
        sections: plan.sections,
        keys: plan.keys,
        secret_keys: plan.secret_keys,
        applied: plan.apply,
        restart_required: restart,
      });
      if (plan.apply.includes('tail_sampling')) {
        pool.reconfigure(samplingSetup(next.tail_sampling, threads, policySlots));
      }
      if (plan.apply.includes('receiver.auth')) auth.update(next.receiver.auth);
      if (plan.apply.includes('exporter.headers')) {
        pool.broadcast({ type: 'exporter_headers', headers: next.exporter.headers });
      }
      if (plan.apply.length > 0) {
        log.info({ applied: plan.apply, secret_keys: plan.secret_keys }, 'reload applied');
      }
      for (const { key, why } of plan.restart) if (why) log.warn({ key }, `${key} is not reloaded: ${why}`);
      if (restart.length > 0) {
        log.warn(
          { keys: restart },
          'these changes are not applied on reload; restart the relay to apply them',
        );
      }
    },
    reloadRejected(origin, error) {
      audit.record('config.reload_rejected', { ...origin, error });
    },
    async stop() {
      const deadline = Date.now() + config.shutdown_timeout;
      ready = false;
      ingest.accepting = false;
      cluster?.leave();
      await receiver.close();
      ingest.handoff.flush();
      await pool.drain(deadline);
      admission.stop();
      auth.stop();
      // The final tally: with a persistent queue, `queued` spans are on disk for the next start.
      log.info(tally(reader, await spansAccepted(metrics.spansReceived)), 'edge-relay stopped');
      audit.record('relay.stopped', { config_digest: configDigest(running) });
      await auditLog?.close();
      await admin.close();
    },
  };
}
