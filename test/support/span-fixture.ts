import { BEACON_SCOPE } from '../../src/enrich/beacon-to-spans.ts';
import type { AnyValue, KeyValue, Resource, SpanRecord } from '../../src/model/span.ts';
import type { Trace } from '../../src/sample/policy.ts';
import { spanFacts } from '../../src/sample/trace-facts.ts';

type Plain = string | number | boolean;

const toValue = (v: Plain): AnyValue =>
  typeof v === 'string'
    ? { type: 'string', value: v }
    : typeof v === 'boolean'
      ? { type: 'bool', value: v }
      : Number.isInteger(v)
        ? { type: 'int', value: v }
        : { type: 'double', value: v };

const attributes = (plain: Record<string, Plain> = {}): KeyValue[] =>
  Object.entries(plain).map(([key, v]) => ({ key, value: toValue(v) }));

export interface SpanSpec {
  traceId?: string;
  spanId?: string;
  parent?: string;
  startMs?: number;
  durMs?: number;
  status?: 0 | 1 | 2;
  attrs?: Record<string, Plain>;
  resource?: Record<string, Plain>;
  traceState?: string;
  flags?: number;
  size?: number;
}

export const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
let nextSpan = 1;

/** A span record for sampler tests; everything not given has a plain default. */
export function spanRecord(spec: SpanSpec = {}): SpanRecord {
  const start = BigInt(Math.round((spec.startMs ?? 0) * 1e6)) + 1_764_070_000_000_000_000n;
  const resource: Resource = {
    attributes: attributes(spec.resource),
    droppedAttributesCount: 0,
    schemaUrl: '',
    key: JSON.stringify(spec.resource ?? {}),
  };
  return {
    span: {
      traceId: spec.traceId ?? TRACE_ID,
      spanId: spec.spanId ?? (nextSpan++).toString(16).padStart(16, '0'),
      parentSpanId: spec.parent ?? '00f067aa0ba902b7',
      traceState: spec.traceState ?? '',
      flags: spec.flags ?? 1,
      name: 'span',
      kind: 1,
      startTimeUnixNano: start,
      endTimeUnixNano: start + BigInt(Math.round((spec.durMs ?? 1) * 1e6)),
      attributes: attributes(spec.attrs),
      droppedAttributesCount: 0,
      events: [],
      droppedEventsCount: 0,
      links: [],
      droppedLinksCount: 0,
      status: { code: spec.status ?? 0, message: '' },
    },
    resource,
    scope: BEACON_SCOPE,
    size: spec.size ?? 100,
  };
}

/** A trace of the given spans (all with the first spec's trace id). */
export function trace(...specs: SpanSpec[]): Trace {
  const traceId = specs[0]?.traceId ?? TRACE_ID;
  const spans = specs.map((s) => spanRecord({ traceId, ...s }));
  return { traceId, spans, bytes: spans.reduce((sum, s) => sum + s.size, 0), facts: spanFacts(spans) };
}

/** A clock tests move by hand. */
export function manualClock(start = 1_764_070_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}
