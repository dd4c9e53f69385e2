// Counters that worker threads write and the main thread reads, through one SharedArrayBuffer: /metrics
// and the accounting never need a message round trip to the workers. Each worker owns a region of
// slots and is the only writer to it, so plain stores suffice; the reader sums regions.

export interface SharedMetricSpec {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly label?: string;
  readonly values?: readonly string[];
}

/** Every metric kept in workers. Label values are fixed, so each (metric, value) has a slot. */
export const SHARED_METRICS = {
  handoffBytesDone: {
    name: 'edge_relay_handoff_bytes_total',
    help: 'Bytes of accepted ingest taken up by worker threads',
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
    ],
  },
  exportRequests: {
    name: 'edge_relay_export_requests_total',
    help: 'Export requests to the backend, by outcome',
    type: 'counter',
    label: 'outcome',
    values: ['success', 'partial_success', 'retryable_error', 'permanent_error'],
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
    help: 'How full the sending queue is, 0 to 1 (batches in memory, or bytes of storage_max_bytes on disk)',
    type: 'gauge',
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
    help: 'Spans read back from the persistent sending queue at start (a previous run queued them)',
    type: 'counter',
  },
  storageCorruptRecords: {
    name: 'edge_relay_storage_corrupt_records_total',
    help: 'Persistent-queue records found torn or failing their checksum (their spans count as dropped, reason storage_corrupt)',
    type: 'counter',
  },
  spansIngested: {
    name: 'edge_relay_worker_spans_ingested_total',
    help: 'Spans taken up by worker threads from the hand-off',
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
} as const satisfies Record<string, SharedMetricSpec>;

export type SharedMetricName = keyof typeof SHARED_METRICS;
type LabelOf<M extends SharedMetricName> = (typeof SHARED_METRICS)[M] extends { values: readonly (infer V)[] }
  ? V
  : never;

const offsets = new Map<SharedMetricName, number>();
let slotsPerWorker = 0;
for (const [name, spec] of Object.entries(SHARED_METRICS) as [SharedMetricName, SharedMetricSpec][]) {
  offsets.set(name, slotsPerWorker);
  slotsPerWorker += spec.values?.length ?? 1;
}

function slotOf(name: SharedMetricName, label?: string): number {
  const spec: SharedMetricSpec = SHARED_METRICS[name];
  const base = offsets.get(name) as number;
  if (label === undefined) return base;
  const index = spec.values?.indexOf(label) ?? -1;
  if (index < 0) throw new Error(`${spec.name} has no label value ${label}`);
  return base + index;
}

export function allocateSharedMetrics(workers: number): SharedArrayBuffer {
  return new SharedArrayBuffer(workers * slotsPerWorker * Float64Array.BYTES_PER_ELEMENT);
}

/** One worker's writable region. */
export class SharedMetricsWriter {
  readonly #slots: Float64Array;
  constructor(buffer: SharedArrayBuffer, worker: number) {
    this.#slots = new Float64Array(buffer, worker * slotsPerWorker * 8, slotsPerWorker);
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
}

/** Sums over all workers' regions. */
export class SharedMetricsReader {
  readonly #slots: Float64Array;
  readonly #workers: number;
  constructor(buffer: SharedArrayBuffer) {
    this.#slots = new Float64Array(buffer);
    this.#workers = this.#slots.length / slotsPerWorker;
  }
  get workers(): number {
    return this.#workers;
  }
  /** The value in one worker's region, or the sum over all workers when `worker` is omitted. */
  read(name: SharedMetricName, label?: string, worker?: number): number {
    const slot = slotOf(name, label);
    if (worker !== undefined) return this.#slots[worker * slotsPerWorker + slot] as number;
    let sum = 0;
    for (let w = 0; w < this.#workers; w++) sum += this.#slots[w * slotsPerWorker + slot] as number;
    return sum;
  }
}
