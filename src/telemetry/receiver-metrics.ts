import type { Registry } from 'prom-client';
import { REFUSALS, type RejectReason } from '../lib/errors.ts';
import { histogramValues, registerCollected } from './collected-metric.ts';
import { WorkerRegions } from './worker-regions.ts';

// The receiver's counters (requests and spans accepted or refused, ack latency), one region per receiver
// thread in one SharedArrayBuffer. On the ack path a count is one store into the thread's own region:
// prom-client's labelled counters and histogram cost about 1 µs per beacon (two incs and an observe,
// measured on the project machine), a sixth of the relay's whole per-beacon budget. The supervisor sums
// the regions at scrape time and for the accounting identity, without a message to any thread.

type Result = 'accepted' | 'rejected';
type Protocol = 'beacon' | 'otlp';
type Route = 'beacons' | 'traces';

const RESULTS: readonly Result[] = ['accepted', 'rejected'];
const PROTOCOLS: readonly Protocol[] = ['beacon', 'otlp'];
const ROUTES: readonly Route[] = ['beacons', 'traces'];
const REASONS = Object.keys(REFUSALS) as RejectReason[];
const ACK_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.1] as const;

/** Refusals counted as the server cuts a connection: no request was answered. */
const CUT: readonly RejectReason[] = ['timed_out', 'too_many_connections'];

// Slots of one region: beacons by result, spans by result and protocol, refusals by reason, then one
// histogram per route (a count per bucket, +Inf's, the sum of values), then gauges: connections open,
// and the thread's heap and array-buffer bytes (what the memory limiter adds up; only a receiver
// thread publishes them, the main thread's own are read where they are).
const BEACONS = 0;
const SPANS = BEACONS + RESULTS.length;
const REJECTED = SPANS + RESULTS.length * PROTOCOLS.length;
const ACK = REJECTED + REASONS.length;
const HISTOGRAM = ACK_BUCKETS.length + 2;
const CONNECTIONS = ACK + ROUTES.length * HISTOGRAM;
const HEAP_USED = CONNECTIONS + 1;
const ARRAY_BUFFERS = HEAP_USED + 1;
const SLOTS = ARRAY_BUFFERS + 1;

const spanSlot = (result: Result, protocol: Protocol): number =>
  SPANS + RESULTS.indexOf(result) * PROTOCOLS.length + PROTOCOLS.indexOf(protocol);
const ackBase = (route: Route): number => ACK + ROUTES.indexOf(route) * HISTOGRAM;

export const allocateReceiverMetrics = (receivers: number): SharedArrayBuffer =>
  WorkerRegions.allocate(receivers, SLOTS);

export interface Increment {
  inc(amount?: number): void;
}
export interface Observation {
  observe(seconds: number): void;
}

/**
 * One receiver thread's counters. The shape is prom-client's (`labels(...)` once, then `inc`/`observe`),
 * so routes bind their slot at registration and pay one store per request.
 */
export class ReceiverMetricsWriter {
  readonly beaconsReceived: { labels(labels: { result: Result }): Increment };
  readonly spansReceived: { labels(labels: { result: Result; protocol: Protocol }): Increment };
  readonly ackLatency: { labels(labels: { route: Route }): Observation };
  readonly #slots: Float64Array;

  constructor(buffer: SharedArrayBuffer, receiver: number) {
    const slots = new WorkerRegions(buffer, SLOTS).region(receiver);
    this.#slots = slots;
    const counter = (slot: number): Increment => ({
      inc(amount = 1) {
        slots[slot] = (slots[slot] as number) + amount;
      },
    });
    this.beaconsReceived = { labels: ({ result }) => counter(BEACONS + RESULTS.indexOf(result)) };
    this.spansReceived = { labels: ({ result, protocol }) => counter(spanSlot(result, protocol)) };
    this.ackLatency = {
      labels({ route }) {
        const base = ackBase(route);
        return {
          observe(seconds) {
            let bucket = 0;
            while (bucket < ACK_BUCKETS.length && seconds > (ACK_BUCKETS[bucket] as number)) bucket++;
            slots[base + bucket] = (slots[base + bucket] as number) + 1;
            const sum = base + ACK_BUCKETS.length + 1;
            slots[sum] = (slots[sum] as number) + seconds;
          },
        };
      },
    };
  }

  rejected(reason: RejectReason): void {
    const slot = REJECTED + REASONS.indexOf(reason);
    this.#slots[slot] = (this.#slots[slot] as number) + 1;
  }

  /** A connection opened (+1) or closed (-1). */
  connections(change: number): void {
    this.#slots[CONNECTIONS] = (this.#slots[CONNECTIONS] as number) + change;
  }

  /** A receiver thread's memory in use, for the memory limiter on the main thread. */
  memory(heapUsed: number, arrayBuffers: number): void {
    this.#slots[HEAP_USED] = heapUsed;
    this.#slots[ARRAY_BUFFERS] = arrayBuffers;
  }
}

/** The supervisor's view: every receiver thread's counters, summed, and each thread's share of requests. */
export class ReceiverMetricsReader {
  readonly #regions: WorkerRegions;

  constructor(buffer: SharedArrayBuffer) {
    this.#regions = new WorkerRegions(buffer, SLOTS);
  }

  /** Spans accepted or rejected, over every protocol and thread. */
  spans(result: Result): number {
    return PROTOCOLS.reduce((sum, protocol) => sum + this.#regions.sum(spanSlot(result, protocol)), 0);
  }

  /** Spans acknowledged to clients: `received` of the accounting identity. */
  spansAccepted(): number {
    return this.spans('accepted');
  }

  /** Heap and array-buffer bytes the receiver threads last published. */
  memoryUsed(): number {
    return this.#regions.sum(HEAP_USED) + this.#regions.sum(ARRAY_BUFFERS);
  }

  /** Requests one thread answered: acknowledged (ack latency's count) or refused with a reason. */
  answered(receiver: number): number {
    let answered = 0;
    for (const [i, reason] of REASONS.entries()) {
      if (!CUT.includes(reason)) answered += this.#regions.at(receiver, REJECTED + i);
    }
    for (const route of ROUTES) {
      const base = ackBase(route);
      for (let bucket = 0; bucket <= ACK_BUCKETS.length; bucket++)
        answered += this.#regions.at(receiver, base + bucket);
    }
    return answered;
  }

  /** Exposes the receiver's metrics under the names they have always had, read at each scrape. */
  register(registry: Registry): void {
    const sum = (slot: number) => this.#regions.sum(slot);
    registerCollected(
      registry,
      { name: 'edge_relay_beacons_received_total', help: 'Beacons received, by result', type: 'counter' },
      () => RESULTS.map((result, i) => ({ labels: { result }, value: sum(BEACONS + i) })),
    );
    registerCollected(
      registry,
      {
        name: 'edge_relay_spans_received_total',
        help: 'Spans received, by protocol and result (accepted spans are acknowledged to the client)',
        type: 'counter',
      },
      () =>
        RESULTS.flatMap((result) =>
          PROTOCOLS.map((protocol) => ({
            labels: { result, protocol },
            value: sum(spanSlot(result, protocol)),
          })),
        ),
    );
    registerCollected(
      registry,
      {
        name: 'edge_relay_requests_rejected_total',
        help: 'Ingest requests refused, by reason',
        type: 'counter',
      },
      () => REASONS.map((reason, i) => ({ labels: { reason }, value: sum(REJECTED + i) })),
    );
    registerCollected(
      registry,
      {
        name: 'edge_relay_receiver_connections',
        help: 'Connections open to the ingest server (receiver.max_connections bounds them)',
        type: 'gauge',
      },
      () => [{ labels: {}, value: sum(CONNECTIONS) }],
    );
    const ackName = 'edge_relay_ack_latency_seconds';
    registerCollected(
      registry,
      { name: ackName, help: 'Time from request start to acknowledgement, by route', type: 'histogram' },
      () =>
        ROUTES.flatMap((route) => {
          const base = ackBase(route);
          const counts = Array.from({ length: ACK_BUCKETS.length + 1 }, (_, i) => sum(base + i));
          return histogramValues(ackName, ACK_BUCKETS, counts, sum(base + ACK_BUCKETS.length + 1), {
            route,
          });
        }),
    );
    registerCollected(
      registry,
      {
        name: 'edge_relay_receiver_requests_total',
        help: 'Ingest requests each receiver thread answered (acknowledged, or refused with a reason): how evenly the kernel spreads connections over the threads',
        type: 'counter',
      },
      () =>
        Array.from({ length: this.#regions.workers }, (_, thread) => ({
          labels: { thread },
          value: this.answered(thread),
        })),
    );
  }
}
