import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { missingExporterSetting } from '../export/config.ts';
import { registerQueueCapacity } from '../export/queue-capacity.ts';
import { Handoff } from '../handoff/handoff.ts';
import type { VerdictSource } from '../judge/verdict.ts';
import { registerVersionsRoute } from '../judge/verdict-metrics.ts';
import { collectGarbage } from '../lib/collect-garbage.ts';
import { parseEndpoint } from '../lib/endpoint.ts';
import { checkFileReadable, checkTlsFilesReadable } from '../lib/tls.ts';
import { Admission } from '../receive/admission.ts';
import { ReceiverAuth } from '../receive/auth/receiver-auth.ts';
import { clientIp } from '../receive/client-ip.ts';
import type { IngestContext } from '../receive/ingest-context.ts';
import { containerMemory, memoryLimits } from '../receive/memory-limit.ts';
import { MemoryUse } from '../receive/memory-use.ts';
import { createReceiver } from '../receive/receiver-server.ts';
import { replayWal } from '../receive/wal/wal-replay.ts';
import { WriteAheadLog } from '../receive/wal/write-ahead-log.ts';
import { samplingSetup } from '../sample/sampling-setup.ts';
import { spansAccepted, tally, writeOffWorker } from '../telemetry/accounting.ts';
import { createAdminServer } from '../telemetry/admin-server.ts';
import { AuditLog, type AuditSink, NO_AUDIT } from '../telemetry/audit-log.ts';
import { buildInfo, registerBuildInfo } from '../telemetry/build-info.ts';
import type { Logger } from '../telemetry/logger.ts';
import { RelayMetrics } from '../telemetry/metrics.ts';
import {
  allocateSamplingMetrics,
  PolicySlots,
  registerSamplingMetrics,
} from '../telemetry/sampling-metrics.ts';
import { allocateSettledSegments, SettledSegmentsReader } from '../telemetry/settled-segments.ts';
import {
  allocateSharedMetrics,
  SharedMetricsReader,
  SharedMetricsWriter,
} from '../telemetry/shared-metrics.ts';
import { resolveThreads } from '../worker/config.ts';
import { ShardPool } from '../worker/shard-pool.ts';
import type { WorkerSections } from '../worker/worker-data.ts';
import type { RelayConfig } from './relay-schema.ts';
import { reloader } from './reload.ts';
import { configDigest, sectionDigests } from './reload-plan.ts';
import { startCluster } from './start-cluster.ts';
import { startActionsOn } from './start-version-actions.ts';
import { startVersionHealth } from './start-version-health.ts';
import { startVersionJudge } from './start-version-judge.ts';

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
  /** The version judge's verdicts and their changes (undefined without version_health or with the judge off). */
  readonly verdicts: VerdictSource | undefined;
}

export interface RelayOptions {
  /** The config file's path, named in the audit log. */
  configFile?: string;
  version?: string;
  /**
   * Verdicts for the actions and the /versions page to follow instead of the judge's: a test stands in
   * for the judge with it. The judge (version_health.judge) still runs and serves GET /v1/versions.
   */
  verdicts?: VerdictSource;
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

/** Listens on a configured endpoint; the error names the key, since a port taken is a start-up failure. */
async function listen(server: FastifyInstance, key: string, endpoint: string): Promise<void> {
  try {
    await server.listen(parseEndpoint(endpoint));
  } catch (err) {
    throw new Error(`${key}: cannot listen on ${endpoint}: ${(err as Error).message}`);
  }
}

/**
 * What the audit log says of a start: which config (by digest, secrets redacted), which tokens and beacon
 * keys (by id) and which OIDC issuer.
 */
function startedRecord(config: RelayConfig, options: RelayOptions): Record<string, unknown> {
  const windows = (list: readonly { id: string; not_before?: string; not_after?: string }[]) =>
    list.map(({ id, not_before, not_after }) => ({ id, not_before, not_after }));
  const { auth } = config.receiver;
  return {
    version: options.version,
    config_file: options.configFile,
    config_digest: configDigest(config),
    sections: sectionDigests(config),
    tokens: windows(auth.tokens),
    beacon_keys: windows(auth.beacon_keys),
    oidc_issuer: auth.oidc.issuer_url || undefined,
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
  checkTlsFilesReadable('receiver.tls', config.receiver.tls);
  checkTlsFilesReadable('exporter.tls', config.exporter.tls);
  const { issuer_ca_path: issuerCa } = config.receiver.auth.oidc;
  if (issuerCa !== '') checkFileReadable('receiver.auth.oidc.issuer_ca_path', issuerCa);
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
  registerBuildInfo(metrics.registry, buildInfo());
  registerQueueCapacity(metrics.registry, config.exporter.sending_queue, threads);
  let ready = false;
  // Resolved before any thread starts: a bad EDGE_RELAY_MEMORY_LIMIT stops the start here.
  const limits = memoryLimits(config.memory_limiter, containerMemory());

  const health = startVersionHealth(config, metrics, log);
  const ipOf = clientIp(config.receiver.trusted_proxies);
  const auth = new ReceiverAuth(config.receiver.auth, {
    registry: metrics.registry,
    clientIp: ipOf,
    log,
    audit,
  });

  const crashed = (what: string) => (error: Error) => {
    // A shard that dies takes its buffered traces with it (and without the log's writer, nothing can
    // be acknowledged): stop being ready so traffic moves elsewhere, and exit so the orchestrator
    // restarts the process.
    ready = false;
    log.fatal({ err: error }, `${what} died; exiting`);
    process.exitCode = 1;
    setImmediate(() => process.exit(1));
  };
  const settled = config.receiver.durability === 'wal' ? allocateSettledSegments(threads) : undefined;
  const wal =
    settled &&
    new WriteAheadLog(
      config.receiver.wal,
      threads,
      new SettledSegmentsReader(settled),
      metrics.registry,
      log,
      crashed("the write-ahead log's writer thread"),
    );
  const shared = {
    metrics: sharedMetrics,
    samplingMetrics,
    sampling: samplingSetup(config.tail_sampling, threads, policySlots),
    wal: settled && wal && { settled, replayed: [...wal.recovered] },
  };
  const sections: WorkerSections = {
    log_level: config.log.level,
    nice: config.workers.nice,
    enrichment: config.enrichment,
    cluster: config.cluster,
    batch: config.batch,
    exporter: config.exporter,
    debug: config.debug,
    // The actions' block stays on the main thread: it holds credentials that no worker needs.
    version_health: config.version_health && { ...config.version_health, actions: undefined },
    peer_token: auth.peerToken(),
    identity_attribute: config.receiver.auth.identity_attribute,
    check_interval: config.memory_limiter.check_interval,
  };
  const pool = await ShardPool.start(sections, threads, shared, log, {
    died(shard, error) {
      // Before the replacement starts: nothing writes to the dead shard's shared memory now.
      const region = new SharedMetricsWriter(sharedMetrics, shard);
      const lost = writeOffWorker(reader, region, shard, ingest.handoff.posted(shard));
      metrics.workerRestarts.inc();
      log.error(
        { err: error, shard, spans_lost: lost },
        'a worker shard died and is restarted; the spans it held are dropped (reason worker_crashed)',
      );
    },
    // A shard that cannot start would fail again: exit, so that the orchestrator sees it.
    failed: crashed('a worker shard that was starting'),
    health: (shard, snapshot) => health?.merged.apply(shard, snapshot),
  });
  const handoff = new Handoff(pool, reader, config.workers.max_pending_bytes);
  const memory = new MemoryUse({
    limits,
    gcIntervals: {
      soft: config.memory_limiter.min_gc_interval_when_soft_limited,
      hard: config.memory_limiter.min_gc_interval_when_hard_limited,
    },
    shared: reader,
    own: () => process.memoryUsage(),
    collect() {
      collectGarbage();
      pool.broadcast({ type: 'collect' });
    },
    registry: metrics.registry,
  });
  const admission = new Admission({
    limits,
    shared: reader,
    handoffPending: (shard) => handoff.pendingBytes(shard),
    memory: (now) => memory.sample(now),
    registry: metrics.registry,
    log,
  });
  const ingest: IngestContext = {
    handoff,
    wal,
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
  const judge = startVersionJudge(config, health?.merged, { metrics, pool, audit, log });
  const admin = createAdminServer(
    metrics,
    () => ready,
    (app) => registerVersionsRoute(app, judge?.judge),
  );
  // The judge's verdicts; a caller may give its own (the tests, as the judge would).
  const verdicts = options.verdicts ?? judge?.judge;
  const versions = startActionsOn(verdicts, config, admin, () => cluster?.members() ?? [], {
    metrics,
    log,
    audit,
  });

  await listen(admin, 'admin.endpoint', config.admin.endpoint);
  // What an earlier run logged and did not settle goes to the workers before anything new.
  if (wal) await replayWal(wal, config.receiver.wal.directory, ingest.handoff, threads, log);
  await listen(receiver, 'receiver.endpoint', config.receiver.endpoint);
  admission.start(config.memory_limiter.check_interval);
  await cluster?.join();
  ready = true;
  const receiverPort = (receiver.server.address() as AddressInfo).port;
  const adminPort = (admin.server.address() as AddressInfo).port;
  log.info({ receiver: receiverPort, admin: adminPort, threads }, 'edge-relay is ready');
  announceExport(config, log);

  const reload = reloader(config, {
    pool,
    auth,
    audit,
    log,
    sampling: (next) => samplingSetup(next, threads, policySlots),
  });
  return {
    receiverPort,
    adminPort,
    audit,
    verdicts: judge?.judge,
    reload: reload.apply,
    reloadRejected(origin, error) {
      audit.record('config.reload_rejected', { ...origin, error });
    },
    async stop() {
      const deadline = Date.now() + config.shutdown_timeout;
      ready = false;
      ingest.accepting = false;
      cluster?.leave();
      judge?.stop();
      await receiver.close();
      ingest.handoff.flush();
      await pool.drain(deadline);
      await health?.push?.stop(deadline);
      await versions?.stop(deadline);
      const unsettled = await wal?.close();
      if (unsettled) log.info({ spans: unsettled }, 'spans left in the write-ahead log for the next start');
      admission.stop();
      auth.stop();
      // The final tally: with a persistent queue, `queued` spans are on disk for the next start.
      log.info(tally(reader, await spansAccepted(metrics.spansReceived)), 'edge-relay stopped');
      audit.record('relay.stopped', { config_digest: configDigest(reload.running()) });
      await auditLog?.close();
      await admin.close();
    },
  };
}
