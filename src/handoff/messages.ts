import type { HealthSnapshot } from '../health/snapshot.ts';
import type { Beacon } from '../model/beacon.ts';
import type { EvidenceVersion } from '../sample/evidence.ts';
import type { SamplingSetup } from '../sample/sampling-setup.ts';
import type { SharedDecision } from '../sample/trace-holder.ts';

// Messages between the receivers (and the supervisor) and the worker shards. Beacons are handed off as
// one JSON text per flush (a string copies far cheaper than an object graph is cloned), with where each
// beacon's item ends in it and the few facts a shard needs before it parses one: a shard that keeps
// everything parses the text once; a tail-sampling shard keeps the text, not spans, until it decides
// the trace. OTLP spans go as protobuf bytes per request, transferred (docs/architecture.md, "OTLP
// ingest" and "Holding beacons until the decision").

/**
 * Who sent an accepted request: the client's address, and the identity its credential names
 * (`token:<id>`, `beacon:<key id>`, `oidc:<username>`), "" unless receiver.auth.identity_attribute is set.
 */
export interface Sender {
  readonly ip: string;
  readonly identity: string;
}

/** One accepted beacon inside a hand-off, as its JSON text holds it: the peer address and the beacon exactly as validated. */
export interface HandoffItem {
  ip: string;
  /** The sender's identity, when there is one to record. */
  id?: string;
  b: Beacon;
}

/**
 * Beacons for one shard: `text` is a JSON array of their HandoffItems; beside it, at the same index,
 * each one's trace id and, FACTS numbers each, its facts (model/beacon-facts.ts): where its item ends
 * in the text, its spans as acknowledged (what the shard counts as taken up, or lost if it cannot read
 * them), and what tail sampling asks of it before it parses one.
 */
export interface BeaconBatch {
  type: 'beacons';
  text: string;
  traceIds: string[];
  facts: Float64Array<ArrayBuffer>;
  /** Length of the items, for the hand-off bound. */
  bytes: number;
  /** Replayed from the write-ahead log at start, so counted as recovered, not ingested. */
  recovered: boolean;
}

/** One OTLP request's spans for a shard: the peer address and an ExportTraceServiceRequest with only them. */
export interface OtlpItem {
  ip: string;
  /** The sender's identity, when there is one to record. */
  identity?: string;
  body: Uint8Array;
  /** Spans in `body`, as acknowledged. */
  spans: number;
  /** Replica hops so far (cluster/forward-header.ts): 0 from a client. */
  hops: number;
  /** The write-ahead-log segment it is logged in (absent when the log is off), and as BeaconBatch's `recovered`. */
  segment?: number;
  recovered?: boolean;
}

/** What a receiver sends a shard, on the channel of that (receiver, shard) pair. */
export type FromReceiver =
  | BeaconBatch
  | { type: 'otlp'; items: OtlpItem[]; bytes: number }
  /** Decisions handed over by a trace's previous owner (received by POST /v1/cluster/decisions). */
  | { type: 'decisions'; decisions: SharedDecision[] }
  /** The receiver has stopped: nothing more comes on this channel. */
  | { type: 'end' };

/** What the supervisor (the main thread) tells a shard, on the worker's own port. */
export type ToWorker =
  /** Drain once every receiver has ended; finish by the deadline. */
  | { type: 'drain'; deadline: number }
  /** New tail sampling policies after a config reload; undefined keeps every span. */
  | { type: 'reconfigure'; sampling: SamplingSetup | undefined }
  /** The cluster members this replica sees now (cluster/membership.ts). */
  | { type: 'members'; members: string[] }
  /** The exporter's headers after a reload (a rotated access token), for every later export request. */
  | { type: 'exporter_headers'; headers: Record<string, string> }
  /** The bearer token to present to peer replicas, after a reload or a token's window opening or closing. */
  | { type: 'peer_token'; token: string | undefined }
  /** The memory limiter is over its soft limit: collect garbage now and publish the memory left. */
  | { type: 'collect' }
  /** The versions whose every trace the sampler keeps (the version judge's evidence), replacing the last list. */
  | { type: 'evidence'; versions: EvidenceVersion[] };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'drained' }
  /** What changed in the shard's version-health series since its last snapshot (health/snapshot.ts). */
  | { type: 'health'; snapshot: HealthSnapshot };
