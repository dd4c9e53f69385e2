import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { missingExporterSetting } from '../export/config.ts';
import { registerQueueCapacity } from '../export/queue-capacity.ts';
import { allocatePostedCounts, PostedReader } from '../handoff/posted-counts.ts';
import { allocateTakenBytes, TakenBytesWriter } from '../handoff/taken-bytes.ts';
import type { VerdictSource } from '../judge/verdict.ts';
import { registerVersionsRoute } from '../judge/verdict-metrics.ts';
import { collectGarbage } from '../lib/collect-garbage.ts';
import { parseEndpoint } from '../lib/endpoint.ts';
import { checkFileReadable, checkTlsFilesReadable } from '../lib/tls.ts';
import { Admission } from '../receive/admission.ts';
import { AdmissionFlag } from '../receive/admission-flag.ts';
import { AuthUsage, allocateAuthUsage } from '../receive/auth/auth-usage.ts';
import { ReceiverAuth } from '../receive/auth/receiver-auth.ts';
import { clientIp } from '../receive/client-ip.ts';
import { containerMemory, memoryLimits } from '../receive/memory-limit.ts';
import { MemoryUse } from '../receive/memory-use.ts';
import { WriteAheadLog } from '../receive/wal/write-ahead-log.ts';
import { samplingSetup } from '../sample/sampling-setup.ts';
import { tally } from '../telemetry/accounting.ts';
import { createAdminServer } from '../telemetry/admin-server.ts';
import { AuditLog, type AuditSink, NO_AUDIT } from '../telemetry/audit-log.ts';
import { type BuildInfo, buildInfo, registerBuildInfo } from '../telemetry/build-info.ts';
import type { Logger } from '../telemetry/logger.ts';
import { RelayMetrics } from '../telemetry/metrics.ts';
import { allocateReceiverMetrics, ReceiverMetricsReader } from '../telemetry/receiver-metrics.ts';
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
import { resolveReceiverThreads, resolveThreads } from '../worker/config.ts';
import { ShardPool } from '../worker/shard-pool.ts';
import type { WorkerSections } from '../worker/worker-data.ts';
import type { RelayConfig } from './relay-schema.ts';
import { reloader } from './reload.ts';
import { configDigest, type ReloadOrigin, sectionDigests } from './reload-plan.ts';
import { startCluster } from './start-cluster.ts';
import {
  cannotListen,
  handoffChannels,
  type Ingress,
  reconnectShard,
  startIngress,
} from './start-ingress.ts';
import { startActionsOn } from './start-version-actions.ts';
import { startVersionHealth } from './start-version-health.ts';
import { startVersionJudge } from './start-version-judge.ts';

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
    throw cannotListen(key, endpoint, err);
  }
}

/**
 * What the audit log says of a start: which config (by digest, secrets redacted), which tokens and beacon
 * keys (by id) and which OIDC issuer.
 */
function startedRecord(
  config: RelayConfig,
  options: RelayOptions,
  build: BuildInfo,
): Record<string, unknown> {
  const windows = (list: readonly { id: string; not_before?: string; not_after?: string }[]) =>
    list.map(({ id, not_before, not_after }) => ({ id, not_before, not_after }));
  const { auth } = config.receiver;
  return {
    version: build.version,
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

/**
 * Starts the worker shards, the receivers and the admin server: the whole relay in one process. The main
 * thread is the supervisor (config, admin server, admission, cluster membership, signals, the audit log)
 * and, with one receiver, the receiver too.
 */
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
  const build = buildInfo();
  audit.record('relay.started', startedRecord(config, options, build));
  const threads = resolveThreads(config.workers, config.tail_sampling?.num_shards);
  const receivers = resolveReceiverThreads(config.receiver);
  const sharedMetrics = allocateSharedMetrics(threads);
  const reader = new SharedMetricsReader(sharedMetrics);
  const receiverMetrics = allocateReceiverMetrics(receivers);
  const receiverCounts = new ReceiverMetricsReader(receiverMetrics);
  const metrics = new RelayMetrics(reader, receiverCounts);
  const samplingMetrics = allocateSamplingMetrics(threads);
  const policySlots = new PolicySlots();
  registerSamplingMetrics(metrics.registry, samplingMetrics, policySlots);
  registerBuildInfo(metrics.registry, build);
  registerQueueCapacity(metrics.registry, config.exporter.sending_queue, threads);
  let ready = false;
  // Resolved before any thread starts: a bad EDGE_RELAY_MEMORY_LIMIT stops the start here.
  const limits = memoryLimits(config.memory_limiter, containerMemory());

  const health = startVersionHealth(config, metrics, log);
  const ipOf = clientIp(config.receiver.trusted_proxies);
  const authUsage = allocateAuthUsage(receivers);
  // With receiver threads this one checks no request: it announces token changes and windows, keeps
  // the peer token and serves every thread's counts.
  const auth = new ReceiverAuth(config.receiver.auth, {
    registry: metrics.registry,
    clientIp: ipOf,
    log,
    audit,
    usage: new AuthUsage(authUsage, 0),
  });

  const crashed = (what: string) => (error: Error) => {
    // Without the log's writer nothing can be acknowledged (without a receiver thread, its share of
    // connections is refused; a shard that cannot start would fail again): stop being ready so traffic
    // moves elsewhere, and exit so the orchestrator restarts the process.
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
  const taken = allocateTakenBytes(threads, receivers);
  const posted = allocatePostedCounts(receivers, threads);
  const postedReader = new PostedReader(posted, threads);
  const takenUp = (shard: number) => reader.read('handoffBytesDone', undefined, shard);
  const channels = handoffChannels(receivers, threads);
  // A shard restarted before the receivers are up gets its channels once they are.
  const ingressUp = Promise.withResolvers<Ingress>();
  const shared = {
    taken,
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
  const pool = await ShardPool.start(sections, threads, shared, channels.fromReceivers, log, {
    async died(shard, error, restartInMs) {
      const { ports, lost } = await reconnectShard(await ingressUp.promise, shard, {
        shared: reader,
        region: new SharedMetricsWriter(sharedMetrics, shard),
        taken: new TakenBytesWriter(taken, receivers, shard),
      });
      metrics.workerRestarts.inc();
      log.error(
        { err: error, shard, spans_lost: lost, restart_in_ms: restartInMs },
        'a worker shard died and is restarted; the spans it held are dropped (reason worker_crashed)',
      );
      return ports;
    },
    // A shard that cannot start would fail again, and one in a crash loop has: exit, so that the
    // orchestrator sees it.
    failed: crashed('a worker shard'),
    health: (shard, snapshot) => health?.merged.apply(shard, snapshot),
  });
  let ingress: Ingress | undefined;
  const memory = new MemoryUse({
    limits,
    gcIntervals: {
      soft: config.memory_limiter.min_gc_interval_when_soft_limited,
      hard: config.memory_limiter.min_gc_interval_when_hard_limited,
    },
    shared: reader,
    receivers: () => receiverCounts.memoryUsed(),
    own: () => process.memoryUsage(),
    collect() {
      collectGarbage();
      pool.broadcast({ type: 'collect' });
      ingress?.collect();
    },
    registry: metrics.registry,
  });
  const flag = new AdmissionFlag(AdmissionFlag.allocate());
  const admission = new Admission({
    limits,
    shared: reader,
    handoffPending: (shard) => ingress?.pendingBytes(shard) ?? postedReader.bytes(shard) - takenUp(shard),
    memory: (now) => memory.sample(now),
    registry: metrics.registry,
    log,
    publish: (decision) => flag.publish(decision),
  });
  const cluster = startCluster(config, pool, metrics.registry, () => auth.peerToken(), log);
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
    () =>
      !ready
        ? 'starting, stopping or a thread died'
        : admission.storageFailing
          ? 'storage cannot be written'
          : undefined,
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
  // Decided before the first request: receiver threads read the published decision from the start.
  admission.start(config.memory_limiter.check_interval);
  ingress = await startIngress(
    {
      config,
      receivers,
      toShards: channels.toShards,
      taken,
      posted,
      takenUp,
      receiverMetrics,
      admission: { decision: admission, buffer: flag.buffer },
      auth,
      authUsage,
      audit,
      clientIp: ipOf,
      wal,
    },
    log,
    crashed,
  );
  ingressUp.resolve(ingress);
  const running = ingress;
  await cluster?.join();
  ready = true;
  const receiverPort = ingress.port;
  const adminPort = (admin.server.address() as AddressInfo).port;
  log.info({ receiver: receiverPort, admin: adminPort, threads, receivers }, 'edge-relay is ready');
  announceExport(config, log);

  const reload = reloader(config, {
    pool,
    auth: { update: (next) => running.updateAuth(next) },
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
      // Every receiver ends its hand-off to every shard; a shard drains once all have.
      const closing = running.close();
      cluster?.leave();
      judge?.stop();
      await closing;
      await pool.drain(deadline);
      await health?.push?.stop(deadline);
      await versions?.stop(deadline);
      const unsettled = await wal?.close();
      if (unsettled) log.info({ spans: unsettled }, 'spans left in the write-ahead log for the next start');
      admission.stop();
      auth.stop();
      // The final tally: with a persistent queue, `queued` spans are on disk for the next start.
      log.info(tally(reader, receiverCounts.spansAccepted()), 'edge-relay stopped');
      audit.record('relay.stopped', { config_digest: configDigest(reload.running()) });
      await auditLog?.close();
      await admin.close();
    },
  };
}
