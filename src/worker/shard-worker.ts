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
import type {
  BeaconBatch,
  FromReceiver,
  FromWorker,
  HandoffItem,
  OtlpItem,
  ToWorker,
} from '../handoff/messages.ts';
import { TakenBytesWriter } from '../handoff/taken-bytes.ts';
import { VersionHealthStage } from '../health/version-health-stage.ts';
import { collectGarbage } from '../lib/collect-garbage.ts';
import type { SpanRecord } from '../model/span.ts';
import type { SpanProcessor } from '../model/span-processor.ts';
import { decodeOtlpProto } from '../receive/otlp/decode-otlp-proto.ts';
import { clusterStage } from '../route/cluster-stage.ts';
import type { HeldBeacon } from '../sample/held-beacon.ts';
import { TailSampler } from '../sample/tail-sampler.ts';
import { createLogger } from '../telemetry/logger.ts';
import { SamplingMetricsWriter } from '../telemetry/sampling-metrics.ts';
import { SettledSegmentsWriter } from '../telemetry/settled-segments.ts';
import { SharedMetricsWriter } from '../telemetry/shared-metrics.ts';
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
const resourceOf = edgeResources(sections.enrichment, sections.identity_attribute);
const enrichOtlp = otlpEnrichment(sections.enrichment, sections.identity_attribute);

/** Spans logged in a write-ahead-log segment settle against it; replayed ones count as recovered. */
function taken(records: SpanRecord[], segment: number | undefined, recovered: boolean | undefined): void {
  if (segment !== undefined) for (const record of records) record.segment = segment;
  metrics.add(recovered ? 'spansRecovered' : 'spansIngested', records.length);
}

/**
 * Spans acknowledged to their client that this shard cannot read (what the receiver checked: a bug,
 * never the client's doing). Counted as taken up when they arrived, they are dropped and settled in
 * their log segment, so the accounting identity holds, and the shard goes on with the rest.
 */
function unreadable(spans: number, err: unknown, segment?: number): void {
  metrics.add('spansDropped', spans, 'decode_failed');
  if (segment !== undefined) settled?.add(segment, spans);
  log.error({ err, spans }, 'accepted spans could not be read in the worker; dropped');
}

function lost(spans: number, err: unknown, segment?: number): void {
  metrics.add('spansIngested', spans);
  unreadable(spans, err, segment);
}

/** A handed-off beacon's spans, enriched and tagged with its log segment; none if it cannot be read. */
function spansOf(item: HandoffItem, spans: number): SpanRecord[] {
  try {
    const records = beaconToSpans(item.b, resourceOf(item.b, item.ip, item.id));
    if (item.w !== undefined) for (const record of records) record.segment = item.w;
    return records;
  } catch (err) {
    unreadable(spans, err, item.w);
    return [];
  }
}

/** One beacon of a hand-off text, parsed on its own. */
function readBeacon(text: string, start: number, end: number, spans: number): SpanRecord[] {
  let item: HandoffItem;
  try {
    item = JSON.parse(text.slice(start, end)) as HandoffItem;
  } catch (err) {
    unreadable(spans, err);
    return [];
  }
  return spansOf(item, spans);
}

// A held beacon is read when its trace is decided: version health counts its spans then, where they
// first become spans (hops 0, so once).
sampler.readBeacon = (beacon) => {
  const records = readBeacon(beacon.text, beacon.start, beacon.end, beacon.spans);
  health?.count(records);
  return records;
};

/**
 * Beacons are taken up as they arrive. A tail-sampling shard holds those of traces it decides as text;
 * the rest (no sampling, or a trace another replica owns) are read into spans now, a whole message's
 * text in one parse when none is held.
 */
function ingestBeacons({ text, ends, traceIds, spans, roots, recovered }: BeaconBatch): void {
  let total = 0;
  for (const n of spans) total += n;
  metrics.add(recovered ? 'spansRecovered' : 'spansIngested', total);
  if (!sampler.holdsBeacons) {
    let items: HandoffItem[];
    try {
      items = JSON.parse(text) as HandoffItem[];
    } catch (err) {
      unreadable(total, err);
      return;
    }
    for (let i = 0; i < items.length; i++)
      pipeline.consume(spansOf(items[i] as HandoffItem, spans[i] as number));
    return;
  }
  const held: HeldBeacon[] = [];
  for (let i = 0; i < ends.length; i++) {
    const traceId = traceIds[i] as string;
    const start = i === 0 ? 1 : (ends[i - 1] as number) + 1;
    const end = ends[i] as number;
    const n = spans[i] as number;
    if (cluster?.owns(traceId) ?? true)
      held.push({ traceId, text, start, end, spans: n, root: roots[i] as boolean });
    else pipeline.consume(readBeacon(text, start, end, n));
  }
  if (held.length > 0) sampler.hold(held);
}

/** OTLP spans arrive checked by the receiver; only their resources are enriched here. */
function ingestOtlp(items: OtlpItem[]): void {
  for (const { ip, identity, body, spans, hops, segment, recovered } of items) {
    let records: SpanRecord[];
    try {
      records = decodeOtlpProto(body).records;
      // Spans from a peer were enriched where they first arrived; the peer's address says nothing of them.
      if (hops === 0) enrichOtlp(records, ip, identity);
    } catch (err) {
      lost(spans, err, segment);
      continue;
    }
    if (records.length < spans) {
      lost(spans - records.length, new Error('fewer spans than the receiver took'), segment);
    }
    taken(records, segment, recovered);
    if (hops === 0) pipeline.consume(records);
    else if (cluster) cluster.consume(records, hops);
    else sampler.consume(records);
  }
}

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
        ingestBeacons(message);
        tookUp(receiver, message.bytes);
        break;
      case 'otlp':
        ingestOtlp(message.items);
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
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
  });
  await Promise.race([allEnded, late]);
  clearTimeout(timer);
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
