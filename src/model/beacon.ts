// Beacon format v1 as TypeScript types; the reference is docs/beacon.md and proto/beacon.schema.json.

export type Scalar = string | number | boolean;
export type BeaconAttributes = Record<string, Scalar | Scalar[]>;

export interface BeaconEvent {
  name: string;
  /** Milliseconds after Beacon.ts. */
  t: number;
  attrs?: BeaconAttributes;
}

export interface BeaconSpan {
  id: string;
  parent?: string;
  /** The parent is in another service (the caller's traceparent): this span starts the edge's part. */
  parentRemote?: boolean;
  name: string;
  kind?: 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  /** Milliseconds after Beacon.ts. */
  start: number;
  dur: number;
  status?: 'unset' | 'ok' | 'error';
  message?: string;
  attrs?: BeaconAttributes;
  events?: BeaconEvent[];
}

export interface Beacon {
  v: 1;
  traceId: string;
  traceState?: string;
  flags?: number;
  /** Epoch milliseconds, the time base of every offset in the beacon. */
  ts: number;
  worker: { id: string; version: string };
  edge?: { ip?: string; pop?: string; requestId?: string };
  service?: string;
  resource?: BeaconAttributes;
  spans: BeaconSpan[];
}
