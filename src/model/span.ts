// The relay's internal span model: OTLP's trace data model, with ids as lowercase hex and times as bigint
// nanoseconds, so that beacons and OTLP requests flow through sampling and export as one thing.

export type AnyValue =
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'int'; readonly value: number | bigint }
  | { readonly type: 'double'; readonly value: number }
  | { readonly type: 'bytes'; readonly value: Uint8Array }
  | { readonly type: 'array'; readonly value: readonly AnyValue[] }
  | { readonly type: 'kvlist'; readonly value: readonly KeyValue[] }
  | { readonly type: 'empty' };

export interface KeyValue {
  readonly key: string;
  readonly value: AnyValue;
}

/** Values of OTLP's Span.SpanKind. */
export const SpanKind = {
  UNSPECIFIED: 0,
  INTERNAL: 1,
  SERVER: 2,
  CLIENT: 3,
  PRODUCER: 4,
  CONSUMER: 5,
} as const;
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind];
/** OTLP's names of the span kinds, indexed by value (as OTLP/JSON and the Collector's spanmetrics spell them). */
export const SPAN_KIND_NAMES = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
] as const;

/** Values of OTLP's Status.StatusCode. */
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;
export type StatusCode = (typeof StatusCode)[keyof typeof StatusCode];

export interface SpanEvent {
  readonly timeUnixNano: bigint;
  readonly name: string;
  readonly attributes: readonly KeyValue[];
  readonly droppedAttributesCount: number;
}

export interface SpanLink {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceState: string;
  readonly attributes: readonly KeyValue[];
  readonly droppedAttributesCount: number;
  readonly flags: number;
}

export interface Span {
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  traceState: string;
  readonly flags: number;
  readonly name: string;
  readonly kind: SpanKind;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  attributes: KeyValue[];
  readonly droppedAttributesCount: number;
  readonly events: readonly SpanEvent[];
  readonly droppedEventsCount: number;
  readonly links: readonly SpanLink[];
  readonly droppedLinksCount: number;
  readonly status: { readonly code: StatusCode; readonly message: string };
}

export interface Resource {
  readonly attributes: readonly KeyValue[];
  readonly droppedAttributesCount: number;
  readonly schemaUrl: string;
  /** Identity for grouping spans into one ResourceSpans; equal keys mean equal resources. */
  readonly key: string;
}

export interface Scope {
  readonly name: string;
  readonly version: string;
  readonly attributes: readonly KeyValue[];
  readonly droppedAttributesCount: number;
  readonly schemaUrl: string;
  readonly key: string;
}

/** A span with the resource and scope it was reported under, and its estimated encoded size in bytes. */
export interface SpanRecord {
  readonly span: Span;
  readonly resource: Resource;
  readonly scope: Scope;
  readonly size: number;
  /**
   * The write-ahead-log segment the span was logged in (receive/wal/), set by the worker that takes it
   * up; absent when the log is off. The span's settlement (exported, sampled out, dropped, persisted or
   * forwarded) is counted against this segment, which is deleted once all its spans are settled.
   */
  segment?: number;
}

/**
 * OTLP span flags bits 8 and 9 (SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE | SPAN_FLAGS_CONTEXT_IS_REMOTE): whether
 * the span's parent is remote is known, and it is. Such a span is where this service's part of the
 * trace begins, e.g. an edge server span continuing a caller's traceparent.
 */
export const PARENT_IS_REMOTE = 0x300;

/** A span with no parent, or whose parent lives in another service: the root of what this relay sees. */
export const isLocalRoot = (span: Span): boolean =>
  span.parentSpanId === '' || (span.flags & PARENT_IS_REMOTE) === PARENT_IS_REMOTE;

export const str = (value: string): AnyValue => ({ type: 'string', value });
export const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });
