import type { AddressInfo } from 'node:net';
import { missingExporterSetting } from '../export/config.ts';
import { Handoff } from '../handoff/handoff.ts';
import { collectGarbage } from '../lib/collect-garbage.ts';
import { parseEndpoint } from '../lib/endpoint.ts';
import { Admission } from '../receive/admission.ts';
import { clientIp } from '../receive/client-ip.ts';
import type { IngestContext } from '../receive/ingest-context.ts';
import { containerMemory, memoryLimits } from '../receive/memory-limit.ts';
import { MemoryUse } from '../receive/memory-use.ts';
import { createReceiver } from '../receive/receiver-server.ts';
import { samplingSetup } from '../sample/sampling-setup.ts';
import { spansAccepted, tally } from '../telemetry/accounting.ts';
import { createAdminServer } from '../telemetry/admin-server.ts';
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
import type { RelayConfig } from './relay-config.ts';
import { startCluster } from './start-cluster.ts';

export interface Relay {
  readonly receiverPort: number;
  readonly adminPort: number;
  /** Applies a reloaded config's tail_sampling block; other sections need a restart. */
  reload(config: RelayConfig): void;
  /** Fails readiness, stops ingest, drains the workers by the shutdown timeout. */
  stop(): Promise<void>;
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

/** Starts the worker shards, the receiver and the admin server: the whole relay in one process. */
export async function startRelay(config: RelayConfig, log: Logger): Promise<Relay> {
  const threads = resolveThreads(config.workers, config.tail_sampling?.num_shards);
  const sharedMetrics = allocateSharedMetrics(threads);
  const reader = new SharedMetricsReader(sharedMetrics);
  const metrics = new RelayMetrics(reader);
  const samplingMetrics = allocateSamplingMetrics(threads);
  const policySlots = new PolicySlots();
  registerSamplingMetrics(metrics.registry, samplingMetrics, policySlots);
  let ready = false;
  // Resolved before any thread starts: a bad EDGE_RELAY_MEMORY_LIMIT stops the start here.
  const limits = memoryLimits(config.memory_limiter, containerMemory());

  const shared = {
    metrics: sharedMetrics,
    samplingMetrics,
    sampling: samplingSetup(config.tail_sampling, threads, policySlots),
  };
  const sections: WorkerSections = {
    log_level: config.log.level,
    nice: config.workers.nice,
    check_interval: config.memory_limiter.check_interval,
    enrichment: config.enrichment,
    cluster: config.cluster,
    batch: config.batch,
    exporter: config.exporter,
    debug: config.debug,
    peer_token: config.receiver.auth.tokens[0],
  };
  const pool = await ShardPool.start(sections, threads, shared, log, (error) => {
    // A shard that dies takes its buffered traces with it: stop being ready so traffic moves elsewhere,
    // and exit so the orchestrator restarts the process.
    ready = false;
    log.fatal({ err: error }, 'a worker shard died; exiting');
    process.exitCode = 1;
    setImmediate(() => process.exit(1));
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
    shards: threads,
    metrics,
    admission,
    clientIp: clientIp(config.receiver.trusted_proxies),
    accepting: true,
  };
  const receiver = createReceiver(config.receiver, ingest, log);
  const cluster = startCluster(config, pool, receiver, ingest, log);
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

  return {
    receiverPort,
    adminPort,
    reload(next) {
      pool.reconfigure(samplingSetup(next.tail_sampling, threads, policySlots));
      const { tail_sampling: _was, ...running } = config;
      const { tail_sampling: _now, ...reloaded } = next;
      if (JSON.stringify(running) !== JSON.stringify(reloaded)) {
        log.warn('only tail_sampling is applied on reload; restart the relay to apply the other changes');
      }
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
      // The final tally: with a persistent queue, `queued` spans are on disk for the next start.
      log.info(tally(reader, await spansAccepted(metrics.spansReceived)), 'edge-relay stopped');
      await admin.close();
    },
  };
}
