import { BEACON_STATUS_CODE, type Beacon, type BeaconSpan } from '../model/beacon.ts';
import {
  type KeyValue,
  PARENT_IS_REMOTE,
  type Resource,
  type Scope,
  type Span,
  type SpanEvent,
  type SpanKind,
  type SpanLink,
  type SpanRecord,
} from '../model/span.ts';
import { msToNanos, offsetNanos } from '../model/time.ts';
import { withThreshold } from '../sample/annotate.ts';
import { otValue, parseThresholdHex } from '../sample/probability.ts';
import { attributesOf } from './beacon-attributes.ts';

export const BEACON_SCOPE: Scope = {
  name: 'edge-relay/beacon',
  version: '1',
  attributes: [],
  droppedAttributesCount: 0,
  schemaUrl: '',
  key: 'edge-relay/beacon@1',
};

/** Span attribute for the Akamai request id (one edge request; not a resource property). */
export const AKAMAI_REQUEST_ID = 'akamai.request.id';

const KIND: Record<NonNullable<BeaconSpan['kind']>, SpanKind> = {
  internal: 1,
  server: 2,
  client: 3,
  producer: 4,
  consumer: 5,
};

// Held spans are what a tail-sampling shard keeps alive for its decision window, and old-generation GC
// work grows with their object count: parts most beacon spans leave empty are shared (the span model
// has them read-only, and they are frozen besides).
const NO_EVENTS: readonly SpanEvent[] = Object.freeze([]);
const NO_LINKS: readonly SpanLink[] = Object.freeze([]);
const BARE_STATUS = Object.fromEntries(
  Object.entries(BEACON_STATUS_CODE).map(([name, code]) => [name, Object.freeze({ code, message: '' })]),
) as Record<NonNullable<BeaconSpan['status']>, Span['status']>;

/** Rough protobuf size of attributes: what the memory bound counts, without encoding. */
function attributesSize(attributes: readonly KeyValue[]): number {
  let size = 0;
  for (const a of attributes) {
    size += a.key.length + 8;
    const v = a.value;
    size += v.type === 'string' ? v.value.length : v.type === 'array' ? v.value.length * 12 : 9;
  }
  return size;
}

/**
 * The spans' tracestate: the beacon's, with the edge's sampling threshold as `ot=th`, the OpenTelemetry
 * form that later stages re-weight counts by (1 / p) and that the tail sampler composes with its own.
 * The edge decided without regard to any earlier `th`, so its threshold replaces one; a threshold of 0
 * (traced for certain) over none changes nothing.
 */
function traceStateOf(beacon: Beacon): string {
  const traceState = beacon.traceState ?? '';
  const threshold = parseThresholdHex(beacon.th);
  if (threshold === undefined || (threshold === 0n && otValue(traceState, 'th') === undefined))
    return traceState;
  return withThreshold(traceState, threshold);
}

/** Converts a validated beacon into span records under the given (enriched) resource. */
export function beaconToSpans(beacon: Beacon, resource: Resource): SpanRecord[] {
  const traceState = traceStateOf(beacon);
  const flags = beacon.flags ?? 1;
  const requestId = beacon.edge?.requestId;
  const records: SpanRecord[] = [];
  // Offsets are whole nanoseconds once rounded, so adding them to the base is exact.
  const base = msToNanos(beacon.ts);
  const at = (offsetMs: number): bigint => base + BigInt(offsetNanos(offsetMs));
  for (const s of beacon.spans) {
    const attributes = attributesOf(s.attrs);
    if (requestId !== undefined)
      attributes.push({ key: AKAMAI_REQUEST_ID, value: { type: 'string', value: requestId } });
    const events =
      s.events === undefined || s.events.length === 0
        ? NO_EVENTS
        : s.events.map((e) => ({
            timeUnixNano: at(e.t),
            name: e.name,
            attributes: attributesOf(e.attrs),
            droppedAttributesCount: 0,
          }));
    const startTimeUnixNano = at(s.start);
    let size = 80 + s.name.length + attributesSize(attributes);
    for (const e of events) size += 16 + e.name.length + attributesSize(e.attributes);
    records.push({
      span: {
        traceId: beacon.traceId,
        spanId: s.id,
        parentSpanId: s.parent ?? '',
        traceState,
        flags: s.parentRemote ? flags | PARENT_IS_REMOTE : flags,
        name: s.name,
        kind: KIND[s.kind ?? 'internal'],
        startTimeUnixNano,
        endTimeUnixNano: startTimeUnixNano + BigInt(offsetNanos(s.dur)),
        attributes,
        droppedAttributesCount: s.droppedAttrs ?? 0,
        events,
        droppedEventsCount: 0,
        links: NO_LINKS,
        droppedLinksCount: 0,
        status:
          s.message === undefined
            ? BARE_STATUS[s.status ?? 'unset']
            : { code: BEACON_STATUS_CODE[s.status ?? 'unset'], message: s.message },
      },
      resource,
      scope: BEACON_SCOPE,
      size,
    });
  }
  return records;
}
