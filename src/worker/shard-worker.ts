import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { BatchProcessor } from '../batch/batch-processor.ts';
import { beaconToSpans } from '../enrich/beacon-to-spans.ts';
import { edgeResources } from '../enrich/edge-resource.ts';
import { otlpEnrichment } from '../enrich/otlp-resource.ts';
import { createBatchStore } from '../export/batch-store.ts';
import { missingExporterSetting } from '../export/config.ts';
import { debugExporter } from '../export/debug-exporter.ts';
import type { Exporter } from '../export/exporter.ts';
import { otlpHttpExporter } from '../export/otlp-http-exporter.ts';
import type { FromWorker, HandoffItem, OtlpItem, ToWorker } from '../handoff/messages.ts';
import { collectGarbage } from '../lib/collect-garbage.ts';
import type { SpanProcessor } from '../model/span-processor.ts';
import { decodeOtlpProto } from '../receive/otlp/decode-otlp-proto.ts';
import { clusterStage } from '../route/cluster-stage.ts';
import { TailSampler } from '../sample/tail-sampler.ts';
import { createLogger } from '../telemetry/logger.ts';
import { SamplingMetricsWriter } from '../telemetry/sampling-metrics.ts';
import { SharedMetricsWriter } from '../telemetry/shared-metrics.ts';
import { lowerThreadPriority } from './thread-priority.ts';
import type { WorkerData } from './worker-data.ts';

// Entry point of one worker shard: every trace whose id maps to this shard is held, decided, encoded
// and exported here, off the thread that acknowledges beacons.
const {
  shard,
  shards,
  sections,
  metrics: metricsBuffer,
  sampling,
  samplingMetrics,
} = workerData as WorkerData;
const port = parentPort as NonNullable<typeof parentPort>;
const log = createLogger(sections.log_level, { shard });
lowerThreadPriority(sections.nice);
const metrics = new SharedMetricsWriter(metricsBuffer, shard);

const store =
  missingExporterSetting(sections.exporter) === undefined
    ? createBatchStore(sections.exporter.sending_queue, shard, shards)
    : undefined;
const exporter: Exporter = store
  ? otlpHttpExporter(sections.exporter, store, metrics, log)
  : debugExporter(sections.debug, metrics, (line) => writeSync(1, `${line}\n`));
const batch: SpanProcessor = new BatchProcessor(sections.batch, exporter, (spans) =>
  metrics.set('batchSpans', spans),
);
const sampler = new TailSampler(sampling, batch, metrics, new SamplingMetricsWriter(samplingMetrics, shard));
const cluster = clusterStage(sections.cluster, sections.peer_token, sampler, metrics, log);
const pipeline = cluster ?? sampler;
const resourceOf = edgeResources(sections.enrichment);
const enrichOtlp = otlpEnrichment(sections.enrichment);

function ingestBeacons(text: string): void {
  const items = JSON.parse(text) as HandoffItem[];
  for (const item of items) {
    const records = beaconToSpans(item.b, resourceOf(item.b, item.ip));
    metrics.add('spansIngested', records.length);
    pipeline.consume(records);
  }
}

/** OTLP spans arrive checked by the receiver; only their resources are enriched here. */
function ingestOtlp(items: OtlpItem[]): void {
  for (const { ip, body, hops } of items) {
    const records = decodeOtlpProto(body).records;
    // Spans from a peer were enriched where they first arrived; the peer's address says nothing of them.
    if (hops === 0) enrichOtlp(records, ip);
    metrics.add('spansIngested', records.length);
    if (cluster) cluster.consume(records, hops);
    else sampler.consume(records);
  }
}

const post = (message: FromWorker): void => port.postMessage(message);

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

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'beacons':
      ingestBeacons(message.text);
      metrics.add('handoffBytesDone', message.bytes);
      break;
    case 'otlp':
      ingestOtlp(message.items);
      metrics.add('handoffBytesDone', message.bytes);
      break;
    case 'reconfigure':
      sampler.reconfigure(message.sampling);
      break;
    case 'members':
      cluster?.setMembers(message.members);
      break;
    case 'decisions':
      cluster?.adopt(message.decisions);
      break;
    case 'collect':
      collectGarbage();
      publishForAdmission();
      break;
    case 'drain':
      pipeline.drain(message.deadline).then(() => post({ type: 'drained' }));
      break;
  }
});
post({ type: 'ready' });
