import type { HealthSnapshot } from '../health/snapshot.ts';
import type { Beacon } from '../model/beacon.ts';
import type { EvidenceVersion } from '../sample/evidence.ts';
import type { SamplingSetup } from '../sample/sampling-setup.ts';
import type { SharedDecision } from '../sample/trace-holder.ts';

// Messages between the ingest thread and its worker shards. Beacons are handed off as one JSON text per
// flush (a string copies far cheaper than an object graph is cloned), which the worker parses once;
// OTLP spans as protobuf bytes per request, transferred (docs/architecture.md, "OTLP ingest").

/**
 * Who sent an accepted request: the client's address, and the identity its credential names
 * (`token:<id>`, `beacon:<key id>`, `oidc:<username>`), "" unless receiver.auth.identity_attribute is set.
 */
export interface Sender {
  readonly ip: string;
  readonly identity: string;
}

/** One accepted beacon inside a hand-off: the peer address and the beacon exactly as validated. */
export interface HandoffItem {
  ip: string;
  /** The sender's identity, when there is one to record. */
  id?: string;
  /** Its spans, as acknowledged: what the worker counts as lost if it cannot take the beacon up. */
  n: number;
  b: Beacon;
  /** The write-ahead-log segment it is logged in (absent when the log is off). */
  w?: number;
  /** 1: replayed from the log at start, so counted as recovered, not ingested. */
  r?: 1;
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
  /** As HandoffItem's `w` and `r`. */
  segment?: number;
  recovered?: boolean;
}

export type ToWorker =
  | { type: 'beacons'; text: string; bytes: number; spans: number }
  | { type: 'otlp'; items: OtlpItem[]; bytes: number }
  | { type: 'drain'; deadline: number }
  /** New tail sampling policies after a config reload; undefined keeps every span. */
  | { type: 'reconfigure'; sampling: SamplingSetup | undefined }
  /** The cluster members this replica sees now (cluster/membership.ts). */
  | { type: 'members'; members: string[] }
  /** Decisions handed over by a trace's previous owner. */
  | { type: 'decisions'; decisions: SharedDecision[] }
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
