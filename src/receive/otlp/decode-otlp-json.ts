import { encodeResource, encodeScope } from '../../export/otlp-encoder.ts';
import { invalid } from '../../lib/errors.ts';
import {
  type AnyValue,
  type KeyValue,
  type Resource,
  type Scope,
  SPAN_KIND_NAMES,
  type Span,
  type SpanEvent,
  type SpanKind,
  type SpanLink,
  type StatusCode,
} from '../../model/span.ts';
import {
  bytes,
  double,
  enumValue,
  field,
  hexId,
  int64,
  type Json,
  list,
  nanos,
  object,
  string,
  uint32,
  WrongType,
  wrong,
} from './json-values.ts';
import { MAX_VALUE_DEPTH, type OtlpBatch, OtlpBatchBuilder } from './otlp-batch.ts';

// OTLP/JSON (the proto3 JSON mapping with OTLP's exceptions): trace and span ids are hex, enums are
// integers (names are accepted too), 64-bit integers are strings or numbers, bytes are base64. Keys
// are lowerCamelCase; the proto field names are accepted as well, as the Collector does. Unknown keys
// are ignored, as the specification requires.

const STATUS_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

function anyValue(value: unknown, depth: number): AnyValue {
  if (depth > MAX_VALUE_DEPTH)
    throw new WrongType('value', `attribute values nest deeper than ${MAX_VALUE_DEPTH} levels`);
  const v = object(value, 'value');
  if (v === undefined) return { type: 'empty' };
  for (const key in v) {
    const inner = v[key];
    if (inner === undefined || inner === null) continue;
    switch (key) {
      case 'stringValue':
      case 'string_value':
        if (typeof inner !== 'string') throw wrong(key, 'a string', inner);
        return { type: 'string', value: inner };
      case 'boolValue':
      case 'bool_value':
        if (typeof inner !== 'boolean') throw wrong(key, 'a boolean', inner);
        return { type: 'bool', value: inner };
      case 'intValue':
      case 'int_value':
        return { type: 'int', value: int64(inner, key) };
      case 'doubleValue':
      case 'double_value':
        return { type: 'double', value: double(inner, key) };
      case 'bytesValue':
      case 'bytes_value':
        return { type: 'bytes', value: bytes(inner, key) };
      case 'arrayValue':
      case 'array_value': {
        const values = list(object(inner, key)?.values, 'values');
        return { type: 'array', value: values.map((item) => anyValue(item, depth + 1)) };
      }
      case 'kvlistValue':
      case 'kvlist_value': {
        const values = list(object(inner, key)?.values, 'values');
        return { type: 'kvlist', value: keyValues(values, depth + 1) };
      }
    }
  }
  return { type: 'empty' };
}

function keyValues(items: unknown[], depth: number): KeyValue[] {
  const out: KeyValue[] = [];
  for (const [i, item] of items.entries()) {
    const kv = object(item, `[${i}]`) ?? {};
    try {
      out.push({ key: string(kv, 'key'), value: anyValue(kv.value, depth) });
    } catch (err) {
      if (err instanceof WrongType) err.where = `[${i}].${err.where}`;
      throw err;
    }
  }
  return out;
}

function attributes(obj: Json, key = 'attributes'): KeyValue[] {
  try {
    return keyValues(list(obj[key], key), 1);
  } catch (err) {
    if (err instanceof WrongType) err.where = `${key}${err.where.startsWith('[') ? '' : '.'}${err.where}`;
    throw err;
  }
}

const droppedAttributes = (obj: Json): number =>
  uint32(obj, 'droppedAttributesCount', 'dropped_attributes_count');

function event(value: unknown): SpanEvent {
  const e = object(value, 'event') ?? {};
  return {
    timeUnixNano: nanos(e, 'timeUnixNano', 'time_unix_nano'),
    name: string(e, 'name'),
    attributes: attributes(e),
    droppedAttributesCount: droppedAttributes(e),
  };
}

function link(value: unknown): SpanLink {
  const l = object(value, 'link') ?? {};
  return {
    traceId: hexId(l, 'traceId', 'trace_id'),
    spanId: hexId(l, 'spanId', 'span_id'),
    traceState: string(l, 'traceState', 'trace_state'),
    attributes: attributes(l),
    droppedAttributesCount: droppedAttributes(l),
    flags: uint32(l, 'flags'),
  };
}

/** Runs `read` over a list, naming the item in any error it throws. */
function each<T>(items: unknown[], key: string, read: (item: unknown, index: number) => T): T[] {
  return items.map((item, i) => {
    try {
      return read(item, i);
    } catch (err) {
      if (err instanceof WrongType) err.where = `${key}[${i}].${err.where}`;
      throw err;
    }
  });
}

function span(value: unknown): Span {
  const s = object(value, 'span') ?? {};
  const status = object(s.status, 'status') ?? {};
  return {
    traceId: hexId(s, 'traceId', 'trace_id'),
    spanId: hexId(s, 'spanId', 'span_id'),
    parentSpanId: hexId(s, 'parentSpanId', 'parent_span_id'),
    traceState: string(s, 'traceState', 'trace_state'),
    flags: uint32(s, 'flags'),
    name: string(s, 'name'),
    kind: enumValue(s, 'kind', SPAN_KIND_NAMES) as SpanKind,
    startTimeUnixNano: nanos(s, 'startTimeUnixNano', 'start_time_unix_nano'),
    endTimeUnixNano: nanos(s, 'endTimeUnixNano', 'end_time_unix_nano'),
    attributes: attributes(s),
    droppedAttributesCount: droppedAttributes(s),
    events: each(list(s.events, 'events'), 'events', event),
    droppedEventsCount: uint32(s, 'droppedEventsCount', 'dropped_events_count'),
    links: each(list(s.links, 'links'), 'links', link),
    droppedLinksCount: uint32(s, 'droppedLinksCount', 'dropped_links_count'),
    status: {
      code: enumValue(status, 'code', STATUS_NAMES) as StatusCode,
      message: string(status, 'message'),
    },
  };
}

/** The encoded size of a span, estimated: what the memory bound counts until the worker decodes it exactly. */
const estimatedSize = (s: Span): number =>
  64 + s.name.length + 24 * (s.attributes.length + s.events.length + s.links.length);

/**
 * A resource or scope with its interning key: its protobuf encoding, from what was decoded. Not the
 * JSON as sent, which may hold unknown keys of any depth (stringifying them could overflow the stack).
 */
function withKey<T extends Resource | Scope>(content: Omit<T, 'key'>, encode: (value: T) => Uint8Array): T {
  const bytes = encode({ ...content, key: '' } as T);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return { ...content, key: `otlp-json\n${content.schemaUrl}\n${text}` } as T;
}

function resourceSpans(value: unknown, index: number, batch: OtlpBatchBuilder): void {
  const rs = object(value, 'resourceSpans') ?? {};
  const r = object(rs.resource, 'resource') ?? {};
  const schemaUrl = string(rs, 'schemaUrl', 'schema_url');
  const resource = withKey<Resource>(
    { attributes: attributes(r), droppedAttributesCount: droppedAttributes(r), schemaUrl },
    encodeResource,
  );
  const scopes = list(field(rs, 'scopeSpans', 'scope_spans'), 'scopeSpans');
  each(scopes, 'scopeSpans', (scoped, s) => {
    const ss = object(scoped, 'scopeSpans') ?? {};
    const sc = object(ss.scope, 'scope') ?? {};
    const scopeSchemaUrl = string(ss, 'schemaUrl', 'schema_url');
    const scope = withKey<Scope>(
      {
        name: string(sc, 'name'),
        version: string(sc, 'version'),
        attributes: attributes(sc),
        droppedAttributesCount: droppedAttributes(sc),
        schemaUrl: scopeSchemaUrl,
      },
      encodeScope,
    );
    each(list(ss.spans, 'spans'), 'spans', (item, i) => {
      const decoded = span(item);
      batch.add(
        decoded,
        resource,
        scope,
        estimatedSize(decoded),
        () => `resourceSpans[${index}].scopeSpans[${s}].spans[${i}]`,
      );
    });
  });
}

/**
 * Decodes an `application/json` ExportTraceServiceRequest. Invalid JSON or a value of the wrong type
 * refuses the request (400, naming where); spans with unusable ids are rejected one by one.
 */
export function decodeOtlpJson(body: Buffer): OtlpBatch {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw invalid(`body is not valid JSON: ${(err as Error).message}`);
  }
  const batch = new OtlpBatchBuilder();
  try {
    const request = object(parsed, 'request');
    const items = list(request && field(request, 'resourceSpans', 'resource_spans'), 'resourceSpans');
    each(items, 'resourceSpans', (item, i) => resourceSpans(item, i, batch));
  } catch (err) {
    if (err instanceof WrongType) throw invalid(`${err.where}: ${err.message}`);
    throw err;
  }
  return batch.finish();
}
