import type { Beacon } from '../model/beacon.ts';
import type { SamplingSetup } from '../sample/sampling-setup.ts';
import type { SharedDecision } from '../sample/trace-holder.ts';

// Messages between the ingest thread and its worker shards. Beacons are handed off as one JSON text per
// flush (a string copies far cheaper than an object graph is cloned), which the worker parses once;
// OTLP spans as protobuf bytes per request, transferred (docs/architecture.md, "OTLP ingest").

/** One accepted beacon inside a hand-off: the peer address and the beacon exactly as validated. */
export interface HandoffItem {
  ip: string;
  b: Beacon;
}

/** One OTLP request's spans for a shard: the peer address and an ExportTraceServiceRequest with only them. */
export interface OtlpItem {
  ip: string;
  body: Uint8Array;
  /** Replica hops so far (cluster/forward-header.ts): 0 from a client. */
  hops: number;
}

export type ToWorker =
  | { type: 'beacons'; text: string; bytes: number }
  | { type: 'otlp'; items: OtlpItem[]; bytes: number }
  | { type: 'drain'; deadline: number }
  /** New tail sampling policies after a config reload; undefined keeps every span. */
  | { type: 'reconfigure'; sampling: SamplingSetup | undefined }
  /** The cluster members this replica sees now (cluster/membership.ts). */
  | { type: 'members'; members: string[] }
  /** Decisions handed over by a trace's previous owner. */
  | { type: 'decisions'; decisions: SharedDecision[] }
  /** The memory limiter is over its soft limit: collect garbage now and publish the memory left. */
  | { type: 'collect' };

export type FromWorker = { type: 'ready' } | { type: 'drained' };
