import { PbfWriter } from 'pbf';
import type { AnyValue, KeyValue, Resource, Scope, Span, SpanRecord } from '../model/span.ts';
import { type Group, groupByResourceAndScope } from './group-spans.ts';

// Writes ExportTraceServiceRequest protobuf straight from the internal model with pbf's writer, which
// writes into one growing buffer and moves a nested message only when its length needs a second
// byte. protobufjs's Writer, used before, allocates an operation object per field and copies every
// byte twice: pbf wrote the same bytes in 0.75 against 1.23 µs per span (batches of 8,192 bench
// spans), and a keep-all shard used 7–15% less CPU per beacon (docs/architecture.md, "Why this
// shape"). Field numbers are those of opentelemetry-proto (see proto/).
type W = PbfWriter;

const LEN = 2;
const FIXED64 = 1;
const VARINT = 0;

// A bigint stored into a BigUint64Array reads back as two 32-bit halves without BigInt arithmetic,
// which would allocate two intermediate bigints per timestamp.
const u64 = new BigUint64Array(1);
const u32 = new Uint32Array(u64.buffer);

function writeFixed64(w: W, field: number, value: bigint): void {
  u64[0] = value;
  w.writeTag(field, FIXED64);
  w.writeFixed32(u32[0] as number);
  w.writeFixed32(u32[1] as number);
}

function writeInt64(w: W, field: number, value: number | bigint): void {
  w.writeTag(field, VARINT);
  if (typeof value === 'number') {
    w.writeVarint(value);
    return;
  }
  // Outside the safe integers only (the model keeps the rest as numbers): two's complement, 7 bits a byte.
  let bits = BigInt.asUintN(64, value);
  w.realloc(10);
  while (bits > 0x7fn) {
    w.buf[w.pos++] = Number(bits & 0x7fn) | 0x80;
    bits >>= 7n;
  }
  w.buf[w.pos++] = Number(bits);
}

// pbf writes a lone UTF-16 surrogate (JSON allows "\ud800") as U+FFFD, as toWellFormed() would: one
// hostile beacon cannot make invalid UTF-8 that protobuf backends refuse for the whole request.
function writeString(w: W, field: number, value: string): void {
  if (value !== '') w.writeStringField(field, value);
}

function writeUint32(w: W, field: number, value: number): void {
  if (value !== 0) w.writeVarintField(field, value);
}

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX[i.toString(16).charCodeAt(0)] = i;

/** A lowercase hex id (as the model keeps ids) as bytes, written in place rather than through a Buffer per id. */
function writeHexId(w: W, field: number, hex: string): void {
  if (hex === '') return;
  const length = hex.length >> 1;
  w.writeTag(field, LEN);
  w.writeVarint(length);
  w.realloc(length);
  const { buf } = w;
  let pos = w.pos;
  for (let i = 0; i < 2 * length; i += 2) {
    buf[pos++] = ((HEX[hex.charCodeAt(i)] as number) << 4) | (HEX[hex.charCodeAt(i + 1)] as number);
  }
  w.pos = pos;
}

function writeAnyValue(value: AnyValue, w: W): void {
  switch (value.type) {
    case 'string':
      w.writeStringField(1, value.value);
      break;
    case 'bool':
      w.writeBooleanField(2, value.value);
      break;
    case 'int':
      writeInt64(w, 3, value.value);
      break;
    case 'double':
      w.writeDoubleField(4, value.value);
      break;
    case 'array':
      w.writeMessage(5, writeArrayValue, value.value);
      break;
    case 'kvlist':
      w.writeMessage(6, writeKeyValueList, value.value);
      break;
    case 'bytes':
      w.writeBytesField(7, value.value);
      break;
    case 'empty':
      break;
  }
}

function writeArrayValue(values: readonly AnyValue[], w: W): void {
  for (const item of values) w.writeMessage(1, writeAnyValue, item);
}

function writeKeyValueList(attributes: readonly KeyValue[], w: W): void {
  writeKeyValues(w, 1, attributes);
}

function writeKeyValue(attribute: KeyValue, w: W): void {
  writeString(w, 1, attribute.key);
  w.writeMessage(2, writeAnyValue, attribute.value);
}

function writeKeyValues(w: W, field: number, attributes: readonly KeyValue[]): void {
  for (const attribute of attributes) w.writeMessage(field, writeKeyValue, attribute);
}

function writeEvent(event: Span['events'][number], w: W): void {
  writeFixed64(w, 1, event.timeUnixNano);
  writeString(w, 2, event.name);
  writeKeyValues(w, 3, event.attributes);
  writeUint32(w, 4, event.droppedAttributesCount);
}

function writeLink(link: Span['links'][number], w: W): void {
  writeHexId(w, 1, link.traceId);
  writeHexId(w, 2, link.spanId);
  writeString(w, 3, link.traceState);
  writeKeyValues(w, 4, link.attributes);
  writeUint32(w, 5, link.droppedAttributesCount);
  if (link.flags !== 0) w.writeFixed32Field(6, link.flags);
}

function writeStatus(status: Span['status'], w: W): void {
  writeString(w, 2, status.message);
  writeUint32(w, 3, status.code);
}

function writeSpan(span: Span, w: W): void {
  writeHexId(w, 1, span.traceId);
  writeHexId(w, 2, span.spanId);
  writeString(w, 3, span.traceState);
  writeHexId(w, 4, span.parentSpanId);
  writeString(w, 5, span.name);
  writeUint32(w, 6, span.kind);
  writeFixed64(w, 7, span.startTimeUnixNano);
  writeFixed64(w, 8, span.endTimeUnixNano);
  writeKeyValues(w, 9, span.attributes);
  writeUint32(w, 10, span.droppedAttributesCount);
  for (const event of span.events) w.writeMessage(11, writeEvent, event);
  writeUint32(w, 12, span.droppedEventsCount);
  for (const link of span.links) w.writeMessage(13, writeLink, link);
  writeUint32(w, 14, span.droppedLinksCount);
  // Always present, even when unset, as the OpenTelemetry SDK writes it: decoders then agree field for field.
  w.writeMessage(15, writeStatus, span.status);
  if (span.flags !== 0) w.writeFixed32Field(16, span.flags);
}

/** A Resource message on its own: its bytes are also an exact identity of its content. */
export function encodeResource(resource: Resource): Uint8Array {
  const w = new PbfWriter(new Uint8Array(256));
  writeKeyValues(w, 1, resource.attributes);
  writeUint32(w, 2, resource.droppedAttributesCount);
  return w.finish();
}

/** An InstrumentationScope message on its own. */
export function encodeScope(scope: Scope): Uint8Array {
  const w = new PbfWriter(new Uint8Array(64));
  writeString(w, 1, scope.name);
  writeString(w, 2, scope.version);
  writeKeyValues(w, 3, scope.attributes);
  writeUint32(w, 4, scope.droppedAttributesCount);
  return w.finish();
}

/**
 * Encodes spans as one ExportTraceServiceRequest, one ResourceSpans per distinct resource and one
 * ScopeSpans per scope within it. Resource and scope messages repeat across batches, so their bytes
 * are kept (bounded by `cacheLimit` entries) and copied in rather than encoded again.
 */
export class OtlpEncoder {
  readonly #resources = new Map<string, Uint8Array>();
  readonly #scopes = new Map<string, Uint8Array>();
  readonly #cacheLimit: number;
  /**
   * One buffer for every batch, grown to the largest and kept: each request is copied out of it at its
   * exact size, where a buffer per batch would grow by doubling and hold its slack as long as the request.
   */
  readonly #writer = new PbfWriter(new Uint8Array(64 * 1024));

  constructor(cacheLimit = 4096) {
    this.#cacheLimit = cacheLimit;
  }

  /**
   * `spanBytes`, when given, holds each record's Span message as already encoded (index for index):
   * those bytes are copied in instead of encoding the span again.
   */
  encode(records: readonly SpanRecord[], spanBytes?: readonly Uint8Array[]): Uint8Array {
    const w = this.#writer;
    w.pos = 0;
    w.length = w.buf.length;
    for (const group of groupByResourceAndScope(records).values()) {
      w.writeMessage(
        1,
        ({ resource, scopes }: Group) => {
          w.writeBytesField(1, this.#cached(this.#resources, resource.key, resource, encodeResource));
          for (const { scope, spans } of scopes.values()) {
            w.writeMessage(
              2,
              (indexes: readonly number[]) => {
                w.writeBytesField(1, this.#cached(this.#scopes, scope.key, scope, encodeScope));
                for (const i of indexes) {
                  const bytes = spanBytes?.[i];
                  if (bytes) w.writeBytesField(2, bytes);
                  else w.writeMessage(2, writeSpan, (records[i] as SpanRecord).span);
                }
                writeString(w, 3, scope.schemaUrl);
              },
              spans,
            );
          }
          writeString(w, 3, resource.schemaUrl);
        },
        group,
      );
    }
    return w.buf.slice(0, w.pos);
  }

  #cached<T>(
    cache: Map<string, Uint8Array>,
    key: string,
    item: T,
    encode: (item: T) => Uint8Array,
  ): Uint8Array {
    let bytes = cache.get(key);
    if (!bytes) {
      if (cache.size >= this.#cacheLimit) cache.clear();
      bytes = encode(item);
      cache.set(key, bytes);
    }
    return bytes;
  }
}
