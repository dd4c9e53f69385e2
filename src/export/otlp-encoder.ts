import protobuf from 'protobufjs/minimal.js';
import type { AnyValue, KeyValue, Resource, Scope, Span, SpanRecord } from '../model/span.ts';
import { groupByResourceAndScope } from './group-spans.ts';

// Writes ExportTraceServiceRequest protobuf straight from the internal model with protobufjs's Writer:
// no intermediate message objects. Field numbers are those of opentelemetry-proto (see proto/).
const { Writer } = protobuf;
type W = protobuf.Writer;

const LEN = 2;
const FIXED64 = 1;
const FIXED32 = 5;
const VARINT = 0;
const tag = (field: number, wire: number): number => (field << 3) | wire;

const MASK32 = 0xffffffffn;

// A bigint stored into a BigUint64Array reads back as two 32-bit halves without BigInt arithmetic,
// which would allocate two intermediate bigints per timestamp.
const u64 = new BigUint64Array(1);
const u32 = new Uint32Array(u64.buffer);

function writeFixed64(w: W, field: number, value: bigint): void {
  u64[0] = value;
  w.uint32(tag(field, FIXED64))
    .fixed32(u32[0] as number)
    .fixed32(u32[1] as number);
}

function writeInt64(w: W, field: number, value: number | bigint): void {
  w.uint32(tag(field, VARINT));
  if (typeof value === 'number') {
    w.int64(value);
    return;
  }
  const bits = BigInt.asUintN(64, value);
  w.int64({ low: Number(bits & MASK32) | 0, high: Number(bits >> 32n) | 0, unsigned: false } as never);
}

// A lone UTF-16 surrogate (JSON allows "\ud800") would be written as invalid UTF-8, which protobuf
// backends refuse for the whole request: one hostile beacon would cost a batch of other spans.
const wellFormed = (value: string): string => (value.isWellFormed() ? value : value.toWellFormed());

function writeString(w: W, field: number, value: string): void {
  if (value !== '') w.uint32(tag(field, LEN)).string(wellFormed(value));
}

function writeUint32(w: W, field: number, value: number): void {
  if (value !== 0) w.uint32(tag(field, VARINT)).uint32(value);
}

function writeHexId(w: W, field: number, hex: string): void {
  if (hex !== '') w.uint32(tag(field, LEN)).bytes(Buffer.from(hex, 'hex'));
}

/**
 * Spans of one trace come together and most share a parent, so the last trace id's and parent id's
 * bytes are kept rather than converted from hex for every span.
 */
class RepeatedId {
  #hex = '';
  #bytes: Buffer = Buffer.alloc(0);

  write(w: W, field: number, hex: string): void {
    if (hex === '') return;
    if (hex !== this.#hex) {
      this.#hex = hex;
      this.#bytes = Buffer.from(hex, 'hex');
    }
    w.uint32(tag(field, LEN)).bytes(this.#bytes);
  }
}
const traceIds = new RepeatedId();
const parentIds = new RepeatedId();

function writeAnyValue(w: W, value: AnyValue): void {
  switch (value.type) {
    case 'string':
      w.uint32(tag(1, LEN)).string(wellFormed(value.value));
      break;
    case 'bool':
      w.uint32(tag(2, VARINT)).bool(value.value);
      break;
    case 'int':
      writeInt64(w, 3, value.value);
      break;
    case 'double':
      w.uint32(tag(4, FIXED64)).double(value.value);
      break;
    case 'array':
      w.uint32(tag(5, LEN)).fork();
      for (const item of value.value) {
        w.uint32(tag(1, LEN)).fork();
        writeAnyValue(w, item);
        w.ldelim();
      }
      w.ldelim();
      break;
    case 'kvlist':
      w.uint32(tag(6, LEN)).fork();
      writeKeyValues(w, 1, value.value);
      w.ldelim();
      break;
    case 'bytes':
      w.uint32(tag(7, LEN)).bytes(value.value);
      break;
    case 'empty':
      break;
  }
}

function writeKeyValues(w: W, field: number, attributes: readonly KeyValue[]): void {
  for (const attribute of attributes) {
    w.uint32(tag(field, LEN)).fork();
    writeString(w, 1, attribute.key);
    w.uint32(tag(2, LEN)).fork();
    writeAnyValue(w, attribute.value);
    w.ldelim().ldelim();
  }
}

function writeSpan(w: W, span: Span): void {
  traceIds.write(w, 1, span.traceId);
  writeHexId(w, 2, span.spanId);
  writeString(w, 3, span.traceState);
  parentIds.write(w, 4, span.parentSpanId);
  writeString(w, 5, span.name);
  writeUint32(w, 6, span.kind);
  writeFixed64(w, 7, span.startTimeUnixNano);
  writeFixed64(w, 8, span.endTimeUnixNano);
  writeKeyValues(w, 9, span.attributes);
  writeUint32(w, 10, span.droppedAttributesCount);
  for (const event of span.events) {
    w.uint32(tag(11, LEN)).fork();
    writeFixed64(w, 1, event.timeUnixNano);
    writeString(w, 2, event.name);
    writeKeyValues(w, 3, event.attributes);
    writeUint32(w, 4, event.droppedAttributesCount);
    w.ldelim();
  }
  writeUint32(w, 12, span.droppedEventsCount);
  for (const link of span.links) {
    w.uint32(tag(13, LEN)).fork();
    writeHexId(w, 1, link.traceId);
    writeHexId(w, 2, link.spanId);
    writeString(w, 3, link.traceState);
    writeKeyValues(w, 4, link.attributes);
    writeUint32(w, 5, link.droppedAttributesCount);
    if (link.flags !== 0) w.uint32(tag(6, FIXED32)).fixed32(link.flags);
    w.ldelim();
  }
  writeUint32(w, 14, span.droppedLinksCount);
  // Always present, even when unset, as the OpenTelemetry SDK writes it: decoders then agree field for field.
  w.uint32(tag(15, LEN)).fork();
  writeString(w, 2, span.status.message);
  writeUint32(w, 3, span.status.code);
  w.ldelim();
  if (span.flags !== 0) w.uint32(tag(16, FIXED32)).fixed32(span.flags);
}

/** A Resource message on its own: its bytes are also an exact identity of its content. */
export function encodeResource(resource: Resource): Uint8Array {
  const w = Writer.create();
  writeKeyValues(w, 1, resource.attributes);
  writeUint32(w, 2, resource.droppedAttributesCount);
  return w.finish();
}

/** An InstrumentationScope message on its own. */
export function encodeScope(scope: Scope): Uint8Array {
  const w = Writer.create();
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

  constructor(cacheLimit = 4096) {
    this.#cacheLimit = cacheLimit;
  }

  /**
   * `spanBytes`, when given, holds each record's Span message as already encoded (index for index):
   * those bytes are copied in instead of encoding the span again.
   */
  encode(records: readonly SpanRecord[], spanBytes?: readonly Uint8Array[]): Uint8Array {
    const w = Writer.create();
    for (const group of groupByResourceAndScope(records).values()) {
      w.uint32(tag(1, LEN)).fork();
      w.uint32(tag(1, LEN)).bytes(
        this.#cached(this.#resources, group.resource.key, group.resource, encodeResource),
      );
      for (const { scope, spans } of group.scopes.values()) {
        w.uint32(tag(2, LEN)).fork();
        w.uint32(tag(1, LEN)).bytes(this.#cached(this.#scopes, scope.key, scope, encodeScope));
        for (const i of spans) {
          const bytes = spanBytes?.[i];
          if (bytes) w.uint32(tag(2, LEN)).bytes(bytes);
          else {
            w.uint32(tag(2, LEN)).fork();
            writeSpan(w, (records[i] as SpanRecord).span);
            w.ldelim();
          }
        }
        writeString(w, 3, scope.schemaUrl);
        w.ldelim();
      }
      writeString(w, 3, group.resource.schemaUrl);
      w.ldelim();
    }
    return w.finish();
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
