// Beacon format v1 as TypeScript types; the reference is docs/beacon.md and proto/beacon.schema.json.

import { StatusCode } from './span.ts';

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
  /** Attributes the client dropped because the format does not allow them (OTLP dropped_attributes_count). */
  droppedAttrs?: number;
  events?: BeaconEvent[];
}

export interface Beacon {
  v: 1;
  traceId: string;
  traceState?: string;
  flags?: number;
  /**
   * The edge's sampling threshold, as OpenTelemetry's tracestate `th` (1–14 hex digits): the beacon was
   * sent with probability p = 1 - th / 2^56. Absent: the edge did not sample (or its caller's flag decided).
   */
  th?: string;
  /** Epoch milliseconds, the time base of every offset in the beacon. */
  ts: number;
  worker: { id: string; version: string };
  edge?: { ip?: string; pop?: string; requestId?: string };
  service?: string;
  resource?: BeaconAttributes;
  spans: BeaconSpan[];
}

/** The OTLP status code of a beacon span's `status` (absent: unset). */
export const BEACON_STATUS_CODE: Record<NonNullable<BeaconSpan['status']>, StatusCode> = {
  unset: StatusCode.UNSET,
  ok: StatusCode.OK,
  error: StatusCode.ERROR,
};
