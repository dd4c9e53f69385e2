// Counters that worker threads write and the main thread reads, through one SharedArrayBuffer: /metrics
// and the accounting never need a message round trip to the workers. Each worker owns a region of
// slots and is the only writer to it, so plain stores suffice; the reader sums regions.

import { WorkerRegions } from './worker-regions.ts';

export interface SharedMetricSpec {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly label?: string;
  readonly values?: readonly string[];
  /** How workers' values combine on /metrics: summed (the default), or the largest (a ratio per shard). */
  readonly across?: 'sum' | 'max';
  /** Histograms: upper bounds of the buckets; slots hold each bucket's count, then +Inf's, then the sum. */
  readonly buckets?: readonly number[];
}

/** Every metric kept in workers. Label values are fixed, so each (metric, value) has a slot. */
export const SHARED_METRICS = {
  handoffBytesDone: {
    name: 'edge_relay_handoff_bytes_total',
    help: 'Bytes of accepted ingest taken up by worker threads (or lost with one that died)',
    type: 'counter',
  },
  spansExported: {
    name: 'edge_relay_spans_exported_total',
    help: 'Spans the backend (or the debug exporter) accepted',
    type: 'counter',
  },
  spansDropped: {
    name: 'edge_relay_spans_dropped_total',
    help: 'Spans accepted from a client but not delivered, by reason',
    type: 'counter',
    label: 'reason',
    values: [
      'queue_full',
      'retry_exhausted',
      'rejected_by_backend',
      'export_failed',
      'shutdown',
      'storage_corrupt',
      'storage_error',
      'peer_unreachable',
      'peer_rejected',
      'peer_queue_full',
      'decode_failed',
      'worker_crashed',
    ],
  },
  exportRequests: {
    name: 'edge_relay_export_requests_total',
    help: 'Export requests to the backend, by outcome',
    type: 'counter',
    label: 'outcome',
    // unauthorized: 401/403, the batch is kept until exporter.headers change (or max_elapsed_time).
    values: ['success', 'partial_success', 'retryable_error', 'unauthorized', 'permanent_error'],
  },
  exportPartialSuccessInvalid: {
    name: 'edge_relay_export_partial_success_invalid_total',
    help: 'Export responses whose partial_success.rejected_spans was negative or more than the batch held (counted as 0 or the whole batch)',
    type: 'counter',
  },
  exportedBytes: {
    name: 'edge_relay_exported_bytes_total',
    help: 'Bytes of export request bodies sent, after compression',
    type: 'counter',
  },
  queueBatches: {
    name: 'edge_relay_sending_queue_batches',
    help: 'Encoded batches waiting in the sending queue or being sent',
    type: 'gauge',
  },
  queueSpans: {
    name: 'edge_relay_sending_queue_spans',
    help: 'Spans handed to the exporter and not yet exported or dropped: compressing, queued (in memory or on disk) or being sent',
    type: 'gauge',
  },
  queueFill: {
    name: 'edge_relay_sending_queue_fill_ratio',
    help: "How full the fullest shard's sending queue is, 0 to 1 (batches in memory, or bytes of its share of storage_max_bytes on disk)",
    type: 'gauge',
    across: 'max',
  },
  queueStoredSpans: {
    name: 'edge_relay_sending_queue_stored_spans',
    help: 'Spans of edge_relay_sending_queue_spans already in the queue (in memory or on disk), as opposed to being compressed on their way to it',
    type: 'gauge',
  },
  queueStoredBytes: {
    name: 'edge_relay_sending_queue_storage_used_bytes',
    help: 'Bytes the persistent queue takes on disk, in whole filesystem blocks (0 without storage)',
    type: 'gauge',
  },
  storageFreeBytes: {
    name: 'edge_relay_sending_queue_storage_free_bytes',
    help: 'Bytes the persistent queue can still take: the smaller of what storage_max_bytes and the filesystem leave each worker (0 without storage)',
    type: 'gauge',
  },
  storageFailing: {
    name: 'edge_relay_sending_queue_storage_failing',
    help: 'Workers whose persistent queue cannot write to its storage (a write failed, e.g. the disk is full) until a write of that size succeeds again',
    type: 'gauge',
  },
  spansRecovered: {
    name: 'edge_relay_spans_recovered_total',
    help: 'Spans read back at start from the persistent sending queue or the write-ahead log (a previous run held them)',
    type: 'counter',
  },
  storageCorruptRecords: {
    name: 'edge_relay_storage_corrupt_records_total',
    help: 'Persistent-queue records found torn or failing their checksum (their spans count as dropped, reason storage_corrupt)',
    type: 'counter',
  },
  spansIngested: {
    name: 'edge_relay_worker_spans_ingested_total',
    help: 'Spans taken up by worker threads from the hand-off (or lost with one that died)',
    type: 'counter',
  },
  spansSampledOut: {
    name: 'edge_relay_spans_sampled_out_total',
    help: 'Spans not exported because tail sampling decided not to keep their trace',
    type: 'counter',
  },
  bufferedTraces: {
    name: 'edge_relay_sampling_buffered_traces',
    help: 'Traces held by the tail sampler, awaiting a decision',
    type: 'gauge',
  },
  bufferedSpans: {
    name: 'edge_relay_sampling_buffered_spans',
    help: 'Spans held by the tail sampler, awaiting a decision',
    type: 'gauge',
  },
  bufferedBytes: {
    name: 'edge_relay_sampling_buffered_bytes',
    help: 'Estimated encoded bytes of spans held by the tail sampler',
    type: 'gauge',
  },
  tracesDecided: {
    name: 'edge_relay_sampling_traces_decided_total',
    help: 'Traces the tail sampler decided, by decision',
    type: 'counter',
    label: 'decision',
    values: ['sampled', 'not_sampled', 'dropped'],
  },
  versionEvidenceTraces: {
    name: 'edge_relay_version_evidence_traces_total',
    help: 'Traces the tail sampler kept only because their EdgeWorker version is suspect or regressed (version_health.judge.evidence); its policies would not have kept them',
    type: 'counter',
  },
  tracesDecidedEarly: {
    name: 'edge_relay_sampling_traces_decided_early_total',
    help: 'Traces decided before decision_wait, by reason (root arrived, size limit, memory bound, span-ingest match, shutdown or reload)',
    type: 'counter',
    label: 'reason',
    values: ['root', 'size', 'memory', 'span_ingest', 'shutdown'],
  },
  lateSpans: {
    name: 'edge_relay_sampling_late_spans_total',
    help: 'Spans that arrived after their trace was decided and followed the cached decision',
    type: 'counter',
    label: 'decision',
    values: ['sampled', 'not_sampled'],
  },
  decisionCacheHits: {
    name: 'edge_relay_sampling_decision_cache_hits_total',
    help: 'Beacons or requests whose trace id was found in the decision cache, by cached decision',
    type: 'counter',
    label: 'decision',
    values: ['sampled', 'not_sampled'],
  },
  spansForwarded: {
    name: 'edge_relay_cluster_spans_forwarded_total',
    help: 'Spans of traces owned by another replica, delivered to it',
    type: 'counter',
  },
  spansFromPeers: {
    name: 'edge_relay_cluster_spans_received_total',
    help: 'Spans received from other replicas (forwarded or handed over)',
    type: 'counter',
  },
  forwardRequests: {
    name: 'edge_relay_cluster_forward_requests_total',
    help: 'Requests to other replicas (spans and handed-over decisions), by outcome',
    type: 'counter',
    label: 'outcome',
    values: ['success', 'retryable_error', 'permanent_error'],
  },
  forwardPendingSpans: {
    name: 'edge_relay_cluster_forward_pending_spans',
    help: 'Spans waiting to be forwarded to, or in requests to, other replicas',
    type: 'gauge',
  },
  tracesHandedOver: {
    name: 'edge_relay_cluster_traces_handed_over_total',
    help: 'Undecided traces handed to their new owner on a membership change or shutdown',
    type: 'counter',
  },
  decisionConflicts: {
    name: 'edge_relay_cluster_decision_conflicts_total',
    help: 'Traces a previous owner had decided that were also decided here (split across a membership change)',
    type: 'counter',
  },
  workerHeapUsed: {
    name: 'edge_relay_worker_heap_used_bytes',
    help: 'V8 heap in use by the worker threads, as each last measured it (the memory limiter counts it)',
    type: 'gauge',
  },
  workerArrayBuffers: {
    name: 'edge_relay_worker_array_buffers_bytes',
    help: 'Bytes of ArrayBuffers (request bodies, encoded batches) held by the worker threads, as each last measured them (the memory limiter counts them)',
    type: 'gauge',
  },
  batchSpans: {
    name: 'edge_relay_batch_spans',
    help: 'Spans waiting in the batch processor',
    type: 'gauge',
  },
  batchSends: {
    name: 'edge_relay_batch_sends_total',
    help: 'Batches the batch processor sent, by what triggered the send (the Collector: batch_size_trigger_send, timeout_trigger_send)',
    type: 'counter',
    label: 'trigger',
    values: ['size', 'timeout', 'drain'],
  },
  batchSendSize: {
    name: 'edge_relay_batch_send_size',
    help: 'Spans per batch sent by the batch processor (the Collector: batch_send_size)',
    type: 'histogram',
    buckets: [10, 50, 100, 250, 500, 1000, 2000, 4000, 8192, 16384, 50000],
  },
  newTraces: {
    name: 'edge_relay_sampling_new_traces_total',
    help: 'Traces the tail sampler started buffering: first spans of trace ids it held no decision for (the Collector: new_trace_id_received)',
    type: 'counter',
  },
} as const satisfies Record<string, SharedMetricSpec>;

export type SharedMetricName = keyof typeof SHARED_METRICS;
/** Why a span accepted from a client was not delivered: the one list, the label values of spansDropped. */
export type DropReason = (typeof SHARED_METRICS.spansDropped.values)[number];
type LabelOf<M extends SharedMetricName> = (typeof SHARED_METRICS)[M] extends { values: readonly (infer V)[] }
  ? V
  : never;

/** Each metric's first slot in a worker's region, and its label values' slots, looked up once per name. */
interface Slots {
  readonly base: number;
  readonly labels: ReadonlyMap<string, number>;
}
const slotsByName = new Map<SharedMetricName, Slots>();
let slotsPerWorker = 0;
for (const [name, spec] of Object.entries(SHARED_METRICS) as [SharedMetricName, SharedMetricSpec][]) {
  const base = slotsPerWorker;
  slotsByName.set(name, { base, labels: new Map(spec.values?.map((value, i) => [value, base + i])) });
  slotsPerWorker += spec.buckets ? spec.buckets.length + 2 : (spec.values?.length ?? 1);
}

type HistogramName = {
  [M in SharedMetricName]: (typeof SHARED_METRICS)[M] extends { buckets: readonly number[] } ? M : never;
}[SharedMetricName];

// Worker shards count per span batch here; a Map of label slots, not indexOf over the values, since
// the lookup showed as 1.9% of a sampling worker's busy time in a profile of the bench.
function slotOf(name: SharedMetricName, label?: string): number {
  const slots = slotsByName.get(name) as Slots;
  if (label === undefined) return slots.base;
  const slot = slots.labels.get(label);
  if (slot === undefined) throw new Error(`${SHARED_METRICS[name].name} has no label value ${label}`);
  return slot;
}

export function allocateSharedMetrics(workers: number): SharedArrayBuffer {
  return WorkerRegions.allocate(workers, slotsPerWorker);
}

/** One worker's writable region. */
export class SharedMetricsWriter {
  readonly #slots: Float64Array;
  constructor(buffer: SharedArrayBuffer, worker: number) {
    this.#slots = new WorkerRegions(buffer, slotsPerWorker).region(worker);
  }
  add<M extends SharedMetricName>(
    name: M,
    amount: number,
    ...label: LabelOf<M> extends never ? [] : [LabelOf<M>]
  ): void {
    const slot = slotOf(name, label[0] as string | undefined);
    this.#slots[slot] = (this.#slots[slot] as number) + amount;
  }
  set<M extends SharedMetricName>(name: M, value: number): void {
    this.#slots[slotOf(name)] = value;
  }
  observe(name: HistogramName, value: number): void {
    const buckets = SHARED_METRICS[name].buckets;
    const base = slotOf(name);
    let bucket = buckets.findIndex((le) => value <= le);
    if (bucket < 0) bucket = buckets.length;
    this.#slots[base + bucket] = (this.#slots[base + bucket] as number) + 1;
    const sum = base + buckets.length + 1;
    this.#slots[sum] = (this.#slots[sum] as number) + value;
  }
}

/** Sums over all workers' regions. */
export class SharedMetricsReader {
  readonly #regions: WorkerRegions;
  constructor(buffer: SharedArrayBuffer) {
    this.#regions = new WorkerRegions(buffer, slotsPerWorker);
  }
  get workers(): number {
    return this.#regions.workers;
  }
  /** The value in one worker's region, or the sum over all workers when `worker` is omitted. */
  read(name: SharedMetricName, label?: string, worker?: number): number {
    return this.#readSlot(slotOf(name, label), worker);
  }

  /** The largest value of a gauge over the workers' regions. */
  max(name: SharedMetricName): number {
    let max = Number.NEGATIVE_INFINITY;
    for (let worker = 0; worker < this.workers; worker++)
      max = Math.max(max, this.read(name, undefined, worker));
    return max;
  }

  /** A histogram summed over workers: the count of each bucket (last: +Inf), and the sum of values. */
  readHistogram(name: HistogramName): { counts: number[]; sum: number } {
    const base = slotOf(name);
    const size = SHARED_METRICS[name].buckets.length + 1;
    const counts = Array.from({ length: size }, (_, i) => this.#readSlot(base + i));
    return { counts, sum: this.#readSlot(base + size) };
  }

  #readSlot(slot: number, worker?: number): number {
    return worker === undefined ? this.#regions.sum(slot) : this.#regions.at(worker, slot);
  }
}
