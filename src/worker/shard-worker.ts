import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { BatchProcessor } from '../batch/batch-processor.ts';
import { createBatchStore } from '../export/batch-store.ts';
import { missingExporterSetting } from '../export/config.ts';
import { debugExporter } from '../export/debug-exporter.ts';
import type { Exporter } from '../export/exporter.ts';
import { otlpHttpExporter } from '../export/otlp-http-exporter.ts';
import type { FromReceiver, FromWorker, ToWorker } from '../handoff/messages.ts';
import { TakenBytesWriter } from '../handoff/taken-bytes.ts';
import { VersionHealthStage } from '../health/version-health-stage.ts';
import { collectGarbage } from '../lib/collect-garbage.ts';
import { atDeadline } from '../lib/deadline.ts';
import type { SpanProcessor } from '../model/span-processor.ts';
import { clusterStage } from '../route/cluster-stage.ts';
import { TailSampler } from '../sample/tail-sampler.ts';
import { createLogger } from '../telemetry/logger.ts';
import { SamplingMetricsWriter } from '../telemetry/sampling-metrics.ts';
import { SettledSegmentsWriter } from '../telemetry/settled-segments.ts';
import { SharedMetricsWriter } from '../telemetry/shared-metrics.ts';
import { shardIngest } from './shard-ingest.ts';
import { lowerThreadPriority } from './thread-priority.ts';
import type { WorkerData } from './worker-data.ts';

// Entry point of one worker shard: every trace whose id maps to this shard is held, decided, encoded
// and exported here, off the thread that acknowledges beacons.
const {
  shard,
  shards,
  sections,
  receivers,
  taken: takenBuffer,
  metrics: metricsBuffer,
  sampling,
  samplingMetrics,
  wal,
} = workerData as WorkerData;
const port = parentPort as NonNullable<typeof parentPort>;
const log = createLogger(sections.log_level, { shard });
lowerThreadPriority(sections.nice);
const metrics = new SharedMetricsWriter(metricsBuffer, shard);
const takenBytes = new TakenBytesWriter(takenBuffer, receivers.length, shard);
const settled = wal && new SettledSegmentsWriter(wal.settled, shard);
const walStorage = wal && { replayed: new Set(wal.replayed) };

const store =
  missingExporterSetting(sections.exporter) === undefined
    ? createBatchStore(sections.exporter.sending_queue, shard, shards, walStorage)
    : undefined;
const exporter: Exporter = store
  ? otlpHttpExporter(sections.exporter, store, metrics, log, settled)
  : debugExporter(sections.debug, metrics, (line) => writeSync(1, `${line}\n`), settled);

// What admission control on the main thread decides on, refreshed at its pace: this thread's memory
// in use (the main thread cannot measure another isolate's array buffers); whether this shard's
// storage takes writes again after one failed (space may come back with no batch moving), how full
// it is (the free space of the filesystem changes with other writers) and how much of what the
// exporter holds is in it already (the rest is being compressed and will need room too).
function publishForAdmission(): void {
  const memory = process.memoryUsage();
  metrics.set('workerHeapUsed', memory.heapUsed);
  metrics.set('workerArrayBuffers', memory.arrayBuffers);
  if (!store) return;
  metrics.set('storageFailing', store.writable() ? 0 : 1);
  metrics.set('queueFill', store.fill());
  const usage = store.usage();
  metrics.set('queueStoredSpans', usage.spans);
  metrics.set('queueStoredBytes', usage.bytes);
  metrics.set('storageFreeBytes', usage.freeBytes);
}
publishForAdmission();
setInterval(publishForAdmission, sections.check_interval).unref();
const batch: SpanProcessor = new BatchProcessor(sections.batch, exporter, {
  waiting: (spans) => metrics.set('batchSpans', spans),
  sent(spans, trigger) {
    metrics.add('batchSends', 1, trigger);
    metrics.observe('batchSendSize', spans);
  },
});
const sampler = new TailSampler(
  sampling,
  batch,
  metrics,
  new SamplingMetricsWriter(samplingMetrics, shard),
  settled,
);
const cluster = clusterStage(sections.cluster, sections.peer_token, sampler, metrics, log, settled);
const post = (message: FromWorker): void => port.postMessage(message);
const routed: SpanProcessor = cluster ?? sampler;
// Version health counts a span where it first arrives from a client (before the cluster stage): a span
// forwarded to its owner is counted once, here, and not again at the owner. Exemplars wait for the
// sampler's decision, so the sampler's hook is connected here rather than the stage importing the sampler.
const health =
  sections.version_health &&
  new VersionHealthStage(sections.version_health, routed, {
    post: (snapshot) => post({ type: 'health', snapshot }),
    keepsAll: sampling === undefined,
    ...(cluster ? { isLocal: (traceId: string) => cluster.owns(traceId) } : {}),
  });
if (health) sampler.onDecision = (traceId, kept) => health.decided(traceId, kept);
const pipeline = health ?? routed;
const ingest = shardIngest({
  enrichment: sections.enrichment,
  identityAttribute: sections.identity_attribute,
  metrics,
  settled,
  log,
  pipeline,
  sampler,
  cluster,
  health,
});

/** Taken up: the receiver that posted it may hand this shard as much again. */
function tookUp(receiver: number, bytes: number): void {
  takenBytes.add(receiver, bytes);
  metrics.add('handoffBytesDone', bytes);
}

let open = receivers.length;
const { promise: allEnded, resolve: ended } = Promise.withResolvers<void>();
if (open === 0) ended();

for (const [receiver, channel] of receivers.entries()) {
  let done = false;
  // A receiver ends its channel with 'end'; a receiver thread that is gone closes it. Either way
  // nothing more comes on it.
  const end = (): void => {
    if (done) return;
    done = true;
    channel.close();
    if (--open === 0) ended();
  };
  channel.on('message', (message: FromReceiver) => {
    switch (message.type) {
      case 'beacons':
        ingest.beacons(message);
        tookUp(receiver, message.bytes);
        break;
      case 'otlp':
        ingest.otlp(message.items);
        tookUp(receiver, message.bytes);
        break;
      case 'decisions':
        cluster?.adopt(message.decisions);
        break;
      case 'end':
        end();
        break;
    }
  });
  channel.on('close', end);
}

/** Every receiver's last hand-off is in before the pipeline drains, or the deadline has come. */
async function drain(deadline: number): Promise<void> {
  await Promise.race([allEnded, atDeadline(deadline, undefined)]);
  await pipeline.drain(deadline);
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'collect':
      collectGarbage();
      publishForAdmission();
      break;
    case 'reconfigure':
      sampler.reconfigure(message.sampling);
      health?.setKeepsAll(message.sampling === undefined);
      break;
    case 'members':
      cluster?.setMembers(message.members);
      break;
    case 'exporter_headers':
      exporter.setHeaders?.(message.headers);
      break;
    case 'peer_token':
      cluster?.setPeerToken(message.token);
      break;
    case 'evidence':
      sampler.evidence.set(message.versions);
      break;
    case 'drain':
      drain(message.deadline).then(() => post({ type: 'drained' }));
      break;
  }
});
post({ type: 'ready' });
