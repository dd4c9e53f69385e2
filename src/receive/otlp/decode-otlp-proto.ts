import protobuf from 'protobufjs/minimal.js';
import { invalid } from '../../lib/errors.ts';
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

/**
 * The field number of a tag, checked against the wire types a message's fields must have (indexed
 * by field number); 0 for a field the message does not know, which the caller skips.
 */
function fieldOf(tag: number, wires: readonly (number | undefined)[], message: string): number {
  const field = tag >>> 3;
  const want = wires[field];
  if (want === undefined) return 0;
  if ((tag & 7) !== want)
    throw new Malformed(`${message} field ${field} has wire type ${tag & 7}, expected ${want}`);
  return field;
}

// Wire types of each message's fields, by field number (opentelemetry-proto).
const U = undefined;
const REQUEST = [U, LEN];
const RESOURCE_SPANS = [U, LEN, LEN, LEN];
const SCOPE_SPANS = [U, LEN, LEN, LEN];
const RESOURCE = [U, LEN, VARINT];
const SCOPE = [U, LEN, LEN, LEN, VARINT];
const SPAN = [
  U,
  LEN,
  LEN,
  LEN,
  LEN,
  LEN,
  VARINT,
  FIXED64,
  FIXED64,
  LEN,
  VARINT,
  LEN,
  VARINT,
  LEN,
  VARINT,
  LEN,
  FIXED32,
];
const EVENT = [U, FIXED64, LEN, LEN, VARINT];
const LINK = [U, LEN, LEN, LEN, LEN, VARINT, FIXED32];
const STATUS = [U, U, LEN, VARINT];
const ANY_VALUE = [U, LEN, VARINT, VARINT, FIXED64, LEN, LEN, LEN];
const KEY_VALUE = [U, LEN, LEN];
const VALUES = [U, LEN];

/**
 * Reads a length prefix and returns where the field ends. The reader's `len` is the end of the message
 * being read (see `enter`), so a length is bounded by its enclosing message, not only by the body.
 */
function messageEnd(r: R): number {
  const length = r.uint32();
  const end = r.pos + length;
  if (end > r.len) throw new Malformed('a length runs past the end of its enclosing message');
  return end;
}

/**
 * Narrows the reader to the sub-message whose length prefix comes next: every read inside it, by us
 * or by protobufjs, stops at its end. Returns the enclosing message's end, which `leave` restores.
 * (protobufjs narrows `len` the same way for packed fields.)
 */
function enter(r: R): number {
  const end = messageEnd(r);
  const outer = r.len;
  r.len = end;
  return outer;
}

function leave(r: R, outer: number): void {
  r.len = outer;
}

/** Reads the sub-message whose length prefix comes next with `read`, bounded by it. */
function within<T>(r: R, read: (r: R) => T): T {
  const outer = enter(r);
  const value = read(r);
  leave(r, outer);
  return value;
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
    if (r.pos >= r.len) throw new Malformed('a varint runs past the end of its message');
    const byte = r.buf[r.pos++] as number;
    value += (byte & 0x7f) * factor;
    if (byte < 0x80) return value;
    factor *= 128;
  }
  let big = BigInt(value);
  for (let shift = 49n; shift < 70n; shift += 7n) {
    if (r.pos >= r.len) throw new Malformed('a varint runs past the end of its message');
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
  const hex = (r.buf as Buffer).toString('hex', r.pos, end);
  r.pos = end;
  return hex;
}

/** Reads an AnyValue message: its length prefix comes next. */
function readAnyValue(r: R, depth: number): AnyValue {
  if (depth > MAX_VALUE_DEPTH)
    throw new Malformed(`attribute values nest deeper than ${MAX_VALUE_DEPTH} levels`);
  const outer = enter(r);
  let value: AnyValue = { type: 'empty' };
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (fieldOf(tag, ANY_VALUE, 'AnyValue')) {
      case 1:
        value = { type: 'string', value: r.string() };
        break;
      case 2:
        value = { type: 'bool', value: r.bool() };
        break;
      case 3:
        value = { type: 'int', value: readInt64(r) };
        break;
      case 4:
        value = { type: 'double', value: r.double() };
        break;
      case 5: {
        const listOuter = enter(r);
        const items: AnyValue[] = [];
        while (r.pos < r.len) {
          const itemTag = r.uint32();
          if (fieldOf(itemTag, VALUES, 'ArrayValue') === 1) items.push(readAnyValue(r, depth + 1));
          else r.skipType(itemTag & 7);
        }
        leave(r, listOuter);
        value = { type: 'array', value: items };
        break;
      }
      case 6: {
        const listOuter = enter(r);
        const items: KeyValue[] = [];
        while (r.pos < r.len) {
          const itemTag = r.uint32();
          if (fieldOf(itemTag, VALUES, 'KeyValueList') === 1) items.push(readKeyValue(r, depth + 1));
          else r.skipType(itemTag & 7);
        }
        leave(r, listOuter);
        value = { type: 'kvlist', value: items };
        break;
      }
      case 7:
        value = { type: 'bytes', value: Uint8Array.from(r.bytes()) };
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  leave(r, outer);
  return value;
}

/** Reads a KeyValue message: its length prefix comes next. */
function readKeyValue(r: R, depth: number): KeyValue {
  const outer = enter(r);
  let key = '';
  let value: AnyValue = { type: 'empty' };
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = fieldOf(tag, KEY_VALUE, 'KeyValue');
    if (field === 1) key = r.string();
    else if (field === 2) value = readAnyValue(r, depth);
    else r.skipType(tag & 7);
  }
  leave(r, outer);
  return { key, value };
}

/** Reads one repeated KeyValue entry (its tag is already read and checked) onto `into`. */
function pushKeyValue(r: R, into: KeyValue[]): void {
  into.push(readKeyValue(r, 1));
}

/** The readers below read the message the reader is narrowed to (`enter`). */
function readEvent(r: R): SpanEvent {
  let timeUnixNano = 0n;
  let name = '';
  const attributes: KeyValue[] = [];
  let droppedAttributesCount = 0;
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (fieldOf(tag, EVENT, 'Event')) {
      case 1:
        timeUnixNano = readFixed64(r);
        break;
      case 2:
        name = r.string();
        break;
      case 3:
        pushKeyValue(r, attributes);
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

function readLink(r: R): SpanLink {
  let traceId = '';
  let spanId = '';
  let traceState = '';
  const attributes: KeyValue[] = [];
  let droppedAttributesCount = 0;
  let flags = 0;
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (fieldOf(tag, LINK, 'Link')) {
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
        pushKeyValue(r, attributes);
        break;
      case 5:
        droppedAttributesCount = r.uint32();
        break;
      case 6:
        flags = r.fixed32();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  return { traceId, spanId, traceState, attributes, droppedAttributesCount, flags };
}

function readStatus(r: R): Span['status'] {
  let code = 0;
  let message = '';
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = fieldOf(tag, STATUS, 'Status');
    if (field === 2) message = r.string();
    else if (field === 3) code = r.uint32();
    else r.skipType(tag & 7);
  }
  return { code: code as StatusCode, message };
}

function readSpan(r: R): Span {
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
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (fieldOf(tag, SPAN, 'Span')) {
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
        startTimeUnixNano = readFixed64(r);
        break;
      case 8:
        endTimeUnixNano = readFixed64(r);
        break;
      case 9:
        pushKeyValue(r, attributes);
        break;
      case 10:
        droppedAttributesCount = r.uint32();
        break;
      case 11:
        events.push(within(r, readEvent));
        break;
      case 12:
        droppedEventsCount = r.uint32();
        break;
      case 13:
        links.push(within(r, readLink));
        break;
      case 14:
        droppedLinksCount = r.uint32();
        break;
      case 15:
        status = within(r, readStatus);
        break;
      case 16:
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

interface DescribedFields {
  wires: readonly (number | undefined)[];
  message: string;
  attributes: number;
  dropped: number;
}

function readDescribed(r: R, fields: DescribedFields): Described {
  const outer = enter(r);
  const described: Described = {
    name: '',
    version: '',
    attributes: [],
    droppedAttributesCount: 0,
    bytes: (r.buf as Buffer).toString('latin1', r.pos, r.len),
  };
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = fieldOf(tag, fields.wires, fields.message);
    if (field === 0) r.skipType(tag & 7);
    else if (field === fields.attributes) pushKeyValue(r, described.attributes);
    else if (field === fields.dropped) described.droppedAttributesCount = r.uint32();
    // Only InstrumentationScope gets here with fields 1 and 2: Resource uses them for the above.
    else if (field === 1) described.name = r.string();
    else described.version = r.string();
  }
  leave(r, outer);
  return described;
}

const RESOURCE_FIELDS: DescribedFields = { wires: RESOURCE, message: 'Resource', attributes: 1, dropped: 2 };
const SCOPE_FIELDS: DescribedFields = {
  wires: SCOPE,
  message: 'InstrumentationScope',
  attributes: 3,
  dropped: 4,
};
const EMPTY: Described = { name: '', version: '', attributes: [], droppedAttributesCount: 0, bytes: '' };

interface ScopeSpans {
  scope: Described;
  schemaUrl: string;
  spans: { span: Span; bytes: Uint8Array }[];
}

function readScopeSpans(r: R): ScopeSpans {
  const out: ScopeSpans = { scope: EMPTY, schemaUrl: '', spans: [] };
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (fieldOf(tag, SCOPE_SPANS, 'ScopeSpans')) {
      case 1:
        out.scope = readDescribed(r, SCOPE_FIELDS);
        break;
      case 2: {
        const outer = enter(r);
        const bytes = r.buf.subarray(r.pos, r.len);
        out.spans.push({ span: readSpan(r), bytes });
        leave(r, outer);
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

function readResourceSpans(r: R, batch: OtlpBatchBuilder, index: number): void {
  let resourceData = EMPTY;
  let schemaUrl = '';
  const scopes: ScopeSpans[] = [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (fieldOf(tag, RESOURCE_SPANS, 'ResourceSpans')) {
      case 1:
        resourceData = readDescribed(r, RESOURCE_FIELDS);
        break;
      case 2:
        scopes.push(within(r, readScopeSpans));
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
    for (const [i, { span, bytes }] of scoped.spans.entries()) {
      const path = () => `resourceSpans[${index}].scopeSpans[${s}].spans[${i}]`;
      batch.add(span, resource, scope, bytes.length, path, bytes);
    }
  }
}

/**
 * Decodes an `application/x-protobuf` ExportTraceServiceRequest. A body that is not one is refused
 * whole (400); spans with unusable ids are rejected one by one (partial success).
 */
export function decodeOtlpProto(body: Uint8Array): OtlpBatch {
  // A Buffer gets protobufjs's Buffer reader (native utf8) and lets ids be read as hex in place.
  const r = Reader.create(
    Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
  );
  const batch = new OtlpBatchBuilder();
  let index = 0;
  try {
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (fieldOf(tag, REQUEST, 'ExportTraceServiceRequest') === 1) {
        const outer = enter(r);
        readResourceSpans(r, batch, index++);
        leave(r, outer);
      } else r.skipType(tag & 7);
    }
  } catch (err) {
    const reason = err instanceof Malformed ? err.message : (err as Error).message;
    throw invalid(`body is not a protobuf ExportTraceServiceRequest: ${reason}`);
  }
  return batch.finish();
}
