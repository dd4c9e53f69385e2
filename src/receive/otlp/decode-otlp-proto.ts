import protobuf from 'protobufjs/minimal.js';
import { invalid } from '../../errors.ts';
import type {
  AnyValue,
  KeyValue,
  Resource,
  Scope,
  Span,
  SpanEvent,
  SpanKind,
  SpanLink,
  StatusCode,
} from '../../model/span.ts';
import { MAX_VALUE_DEPTH, type OtlpBatch, OtlpBatchBuilder } from './otlp-batch.ts';

// Reads ExportTraceServiceRequest protobuf straight into the internal model with protobufjs's Reader:
// no intermediate message objects, fixed64 times read exactly as bigint, nesting depth bounded, and
// unknown fields skipped as protobuf requires. Field numbers are those of opentelemetry-proto (see proto/).
type R = protobuf.Reader;
const { Reader } = protobuf;

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

/** A malformed message: the request is refused as a whole. */
class Malformed extends Error {}

function expectWire(field: string, wire: number, want: number): void {
  if (wire !== want) throw new Malformed(`${field} has wire type ${wire}, expected ${want}`);
}

/** Reads a length prefix and returns where the sub-message ends. */
function messageEnd(r: R): number {
  const length = r.uint32();
  const end = r.pos + length;
  if (end > r.len) throw new Malformed('a length runs past the end of the body');
  return end;
}

function readFixed64(r: R): bigint {
  const low = r.fixed32();
  const high = r.fixed32();
  return (BigInt(high) << 32n) | BigInt(low);
}

/** A varint as a signed 64-bit integer: a number when it is safe, else an exact bigint. */
function readInt64(r: R): number | bigint {
  let value = 0;
  let factor = 1;
  for (let i = 0; i < 7; i++) {
    if (r.pos >= r.len) throw new Malformed('a varint runs past the end of the body');
    const byte = r.buf[r.pos++] as number;
    value += (byte & 0x7f) * factor;
    if (byte < 0x80) return value;
    factor *= 128;
  }
  let big = BigInt(value);
  for (let shift = 49n; shift < 70n; shift += 7n) {
    if (r.pos >= r.len) throw new Malformed('a varint runs past the end of the body');
    const byte = r.buf[r.pos++] as number;
    big |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) {
      const signed = BigInt.asIntN(64, big);
      return signed >= BigInt(Number.MIN_SAFE_INTEGER) && signed <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(signed)
        : signed;
    }
  }
  throw new Malformed('a varint is longer than 10 bytes');
}

function hexId(r: R): string {
  const end = messageEnd(r);
  const hex = Buffer.from(r.buf.buffer, r.buf.byteOffset + r.pos, end - r.pos).toString('hex');
  r.pos = end;
  return hex;
}

function readAnyValue(r: R, end: number, depth: number): AnyValue {
  if (depth > MAX_VALUE_DEPTH)
    throw new Malformed(`attribute values nest deeper than ${MAX_VALUE_DEPTH} levels`);
  let value: AnyValue = { type: 'empty' };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire('AnyValue.string_value', tag & 7, LEN);
        value = { type: 'string', value: r.string() };
        break;
      case 2:
        expectWire('AnyValue.bool_value', tag & 7, VARINT);
        value = { type: 'bool', value: r.bool() };
        break;
      case 3:
        expectWire('AnyValue.int_value', tag & 7, VARINT);
        value = { type: 'int', value: readInt64(r) };
        break;
      case 4:
        expectWire('AnyValue.double_value', tag & 7, FIXED64);
        value = { type: 'double', value: r.double() };
        break;
      case 5: {
        expectWire('AnyValue.array_value', tag & 7, LEN);
        const arrayEnd = messageEnd(r);
        const items: AnyValue[] = [];
        while (r.pos < arrayEnd) {
          const itemTag = r.uint32();
          if (itemTag === ((1 << 3) | LEN)) items.push(readAnyValue(r, messageEnd(r), depth + 1));
          else r.skipType(itemTag & 7);
        }
        value = { type: 'array', value: items };
        break;
      }
      case 6: {
        expectWire('AnyValue.kvlist_value', tag & 7, LEN);
        const listEnd = messageEnd(r);
        const items: KeyValue[] = [];
        while (r.pos < listEnd) {
          const itemTag = r.uint32();
          if (itemTag === ((1 << 3) | LEN)) items.push(readKeyValue(r, messageEnd(r), depth + 1));
          else r.skipType(itemTag & 7);
        }
        value = { type: 'kvlist', value: items };
        break;
      }
      case 7:
        expectWire('AnyValue.bytes_value', tag & 7, LEN);
        value = { type: 'bytes', value: Uint8Array.from(r.bytes()) };
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  return value;
}

function readKeyValue(r: R, end: number, depth: number): KeyValue {
  let key = '';
  let value: AnyValue = { type: 'empty' };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | LEN)) key = r.string();
    else if (tag === ((2 << 3) | LEN)) value = readAnyValue(r, messageEnd(r), depth);
    else r.skipType(tag & 7);
  }
  return { key, value };
}

/** Reads one repeated KeyValue entry (the tag is already read) onto `into`. */
function pushKeyValue(r: R, tag: number, field: string, into: KeyValue[]): void {
  expectWire(field, tag & 7, LEN);
  into.push(readKeyValue(r, messageEnd(r), 1));
}

function readEvent(r: R, end: number): SpanEvent {
  let timeUnixNano = 0n;
  let name = '';
  const attributes: KeyValue[] = [];
  let droppedAttributesCount = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire('Event.time_unix_nano', tag & 7, FIXED64);
        timeUnixNano = readFixed64(r);
        break;
      case 2:
        name = r.string();
        break;
      case 3:
        pushKeyValue(r, tag, 'Event.attributes', attributes);
        break;
      case 4:
        droppedAttributesCount = r.uint32();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  return { timeUnixNano, name, attributes, droppedAttributesCount };
}

function readLink(r: R, end: number): SpanLink {
  let traceId = '';
  let spanId = '';
  let traceState = '';
  const attributes: KeyValue[] = [];
  let droppedAttributesCount = 0;
  let flags = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        traceId = hexId(r);
        break;
      case 2:
        spanId = hexId(r);
        break;
      case 3:
        traceState = r.string();
        break;
      case 4:
        pushKeyValue(r, tag, 'Link.attributes', attributes);
        break;
      case 5:
        droppedAttributesCount = r.uint32();
        break;
      case 6:
        expectWire('Link.flags', tag & 7, FIXED32);
        flags = r.fixed32();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  return { traceId, spanId, traceState, attributes, droppedAttributesCount, flags };
}

function readStatus(r: R, end: number): Span['status'] {
  let code = 0;
  let message = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 2) message = r.string();
    else if (tag >>> 3 === 3) code = r.uint32();
    else r.skipType(tag & 7);
  }
  return { code: code as StatusCode, message };
}

function readSpan(r: R, end: number): Span {
  let traceId = '';
  let spanId = '';
  let parentSpanId = '';
  let traceState = '';
  let flags = 0;
  let name = '';
  let kind = 0;
  let startTimeUnixNano = 0n;
  let endTimeUnixNano = 0n;
  const attributes: KeyValue[] = [];
  let droppedAttributesCount = 0;
  const events: SpanEvent[] = [];
  let droppedEventsCount = 0;
  const links: SpanLink[] = [];
  let droppedLinksCount = 0;
  let status: Span['status'] = { code: 0, message: '' };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        traceId = hexId(r);
        break;
      case 2:
        spanId = hexId(r);
        break;
      case 3:
        traceState = r.string();
        break;
      case 4:
        parentSpanId = hexId(r);
        break;
      case 5:
        name = r.string();
        break;
      case 6:
        kind = r.uint32();
        break;
      case 7:
        expectWire('Span.start_time_unix_nano', tag & 7, FIXED64);
        startTimeUnixNano = readFixed64(r);
        break;
      case 8:
        expectWire('Span.end_time_unix_nano', tag & 7, FIXED64);
        endTimeUnixNano = readFixed64(r);
        break;
      case 9:
        pushKeyValue(r, tag, 'Span.attributes', attributes);
        break;
      case 10:
        droppedAttributesCount = r.uint32();
        break;
      case 11:
        expectWire('Span.events', tag & 7, LEN);
        events.push(readEvent(r, messageEnd(r)));
        break;
      case 12:
        droppedEventsCount = r.uint32();
        break;
      case 13:
        expectWire('Span.links', tag & 7, LEN);
        links.push(readLink(r, messageEnd(r)));
        break;
      case 14:
        droppedLinksCount = r.uint32();
        break;
      case 15:
        expectWire('Span.status', tag & 7, LEN);
        status = readStatus(r, messageEnd(r));
        break;
      case 16:
        expectWire('Span.flags', tag & 7, FIXED32);
        flags = r.fixed32();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  return {
    traceId,
    spanId,
    parentSpanId,
    traceState,
    flags,
    name,
    kind: kind as SpanKind,
    startTimeUnixNano,
    endTimeUnixNano,
    attributes,
    droppedAttributesCount,
    events,
    droppedEventsCount,
    links,
    droppedLinksCount,
    status,
  };
}

/** Resource and InstrumentationScope share a shape up to their field numbers. */
interface Described {
  name: string;
  version: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  /** The message's own bytes, as latin1 text: an exact identity for interning. */
  bytes: string;
}

function readDescribed(r: R, end: number, fields: { attributes: number; dropped: number }): Described {
  const described: Described = {
    name: '',
    version: '',
    attributes: [],
    droppedAttributesCount: 0,
    bytes: Buffer.from(r.buf.buffer, r.buf.byteOffset + r.pos, end - r.pos).toString('latin1'),
  };
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === fields.attributes) pushKeyValue(r, tag, 'attributes', described.attributes);
    else if (field === fields.dropped) described.droppedAttributesCount = r.uint32();
    else if (fields.attributes === 3 && field === 1) described.name = r.string();
    else if (fields.attributes === 3 && field === 2) described.version = r.string();
    else r.skipType(tag & 7);
  }
  return described;
}

const RESOURCE_FIELDS = { attributes: 1, dropped: 2 };
const SCOPE_FIELDS = { attributes: 3, dropped: 4 };
const EMPTY: Described = { name: '', version: '', attributes: [], droppedAttributesCount: 0, bytes: '' };

interface ScopeSpans {
  scope: Described;
  schemaUrl: string;
  spans: { span: Span; size: number }[];
}

function readScopeSpans(r: R, end: number): ScopeSpans {
  const out: ScopeSpans = { scope: EMPTY, schemaUrl: '', spans: [] };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire('ScopeSpans.scope', tag & 7, LEN);
        out.scope = readDescribed(r, messageEnd(r), SCOPE_FIELDS);
        break;
      case 2: {
        expectWire('ScopeSpans.spans', tag & 7, LEN);
        const spanEnd = messageEnd(r);
        const size = spanEnd - r.pos;
        out.spans.push({ span: readSpan(r, spanEnd), size });
        break;
      }
      case 3:
        out.schemaUrl = r.string();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  return out;
}

function readResourceSpans(r: R, end: number, batch: OtlpBatchBuilder, index: number): void {
  let resourceData = EMPTY;
  let schemaUrl = '';
  const scopes: ScopeSpans[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire('ResourceSpans.resource', tag & 7, LEN);
        resourceData = readDescribed(r, messageEnd(r), RESOURCE_FIELDS);
        break;
      case 2:
        expectWire('ResourceSpans.scope_spans', tag & 7, LEN);
        scopes.push(readScopeSpans(r, messageEnd(r)));
        break;
      case 3:
        schemaUrl = r.string();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  // The schema URL may follow the spans on the wire, so the Resource is built once the message is read.
  const resource: Resource = {
    attributes: resourceData.attributes,
    droppedAttributesCount: resourceData.droppedAttributesCount,
    schemaUrl,
    key: `otlp\n${schemaUrl}\n${resourceData.bytes}`,
  };
  for (const [s, scoped] of scopes.entries()) {
    const { name, version, attributes, droppedAttributesCount, bytes } = scoped.scope;
    const scope: Scope = {
      name,
      version,
      attributes,
      droppedAttributesCount,
      schemaUrl: scoped.schemaUrl,
      key: `otlp\n${scoped.schemaUrl}\n${bytes}`,
    };
    for (const [i, { span, size }] of scoped.spans.entries())
      batch.add(span, resource, scope, size, () => `resourceSpans[${index}].scopeSpans[${s}].spans[${i}]`);
  }
}

/**
 * Decodes an `application/x-protobuf` ExportTraceServiceRequest. A body that is not one is refused
 * whole (400); spans with unusable ids are rejected one by one (partial success).
 */
export function decodeOtlpProto(body: Uint8Array): OtlpBatch {
  const r = Reader.create(body);
  const batch = new OtlpBatchBuilder();
  let index = 0;
  try {
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag === ((1 << 3) | LEN)) readResourceSpans(r, messageEnd(r), batch, index++);
      else r.skipType(tag & 7);
    }
  } catch (err) {
    const reason = err instanceof Malformed ? err.message : (err as Error).message;
    throw invalid(`body is not a protobuf ExportTraceServiceRequest: ${reason}`);
  }
  return batch.finish();
}
