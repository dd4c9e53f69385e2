import protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import { bytesField, hexField, message, otlpRequest, otlpSpan } from '../../../test/support/proto-tree.ts';
import { OtlpEncoder } from '../../export/otlp-encoder.ts';
import type { AnyValue, Resource, Scope, Span, SpanRecord } from '../../model/span.ts';
import { decodeOtlpProto } from './decode-otlp-proto.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';

const resource: Resource = {
  attributes: [{ key: 'service.name', value: { type: 'string', value: 'api' } }],
  droppedAttributesCount: 2,
  schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
  key: 'r',
};
const scope: Scope = {
  name: 'lib',
  version: '1.0',
  attributes: [{ key: 'scope.attr', value: { type: 'bool', value: true } }],
  droppedAttributesCount: 1,
  schemaUrl: 'https://opentelemetry.io/schemas/1.29.0',
  key: 's',
};

const everyValue: Record<string, AnyValue> = {
  str: { type: 'string', value: 'héllo' },
  yes: { type: 'bool', value: true },
  small: { type: 'int', value: -5 },
  big: { type: 'int', value: 9007199254740993n },
  min: { type: 'int', value: -9223372036854775808n },
  dbl: { type: 'double', value: 2.5 },
  raw: { type: 'bytes', value: new Uint8Array([0, 255, 7]) },
  list: {
    type: 'array',
    value: [
      { type: 'int', value: 1 },
      { type: 'string', value: 'two' },
    ],
  },
  map: {
    type: 'kvlist',
    value: [{ key: 'k', value: { type: 'array', value: [{ type: 'double', value: 0.5 }] } }],
  },
  none: { type: 'empty' },
};

function span(overrides: Partial<Span> = {}): Span {
  return {
    traceId: TRACE,
    spanId: SPAN,
    parentSpanId: '00f067aa0ba902b7',
    traceState: 'vendor=1',
    flags: 0x301,
    name: 'GET /',
    kind: 2,
    startTimeUnixNano: 1764000000123456789n,
    endTimeUnixNano: 18446744073709551615n,
    attributes: Object.entries(everyValue).map(([key, value]) => ({ key, value })),
    droppedAttributesCount: 3,
    events: [{ timeUnixNano: 1764000000500000001n, name: 'e', attributes: [], droppedAttributesCount: 4 }],
    droppedEventsCount: 5,
    links: [
      {
        traceId: 'ffffffffffffffffffffffffffffffff',
        spanId: '0000000000000001',
        traceState: 'x=y',
        attributes: [{ key: 'l', value: { type: 'string', value: 'v' } }],
        droppedAttributesCount: 6,
        flags: 1,
      },
    ],
    droppedLinksCount: 7,
    status: { code: 2, message: 'failed' },
    ...overrides,
  };
}

const record = (s: Span): SpanRecord => ({ span: s, resource, scope, size: 0 });
const encode = (spans: Span[]): Uint8Array => new OtlpEncoder().encode(spans.map(record));

/** Matches the 400 a refused body throws. */
const refused = (message: RegExp) =>
  expect.objectContaining({ statusCode: 400, message: expect.stringMatching(message) });

describe('decodeOtlpProto', () => {
  it('reads every field of the model back exactly as the encoder wrote it', () => {
    const batch = decodeOtlpProto(encode([span()]));
    expect(batch.rejected).toBe(0);
    const decoded = batch.records[0] as SpanRecord;
    expect(decoded.span).toEqual(span());
    const { key: _r, ...decodedResource } = decoded.resource;
    const { key: _s, ...decodedScope } = decoded.scope;
    expect(decodedResource).toEqual({
      attributes: resource.attributes,
      droppedAttributesCount: 2,
      schemaUrl: resource.schemaUrl,
    });
    expect(decodedScope).toEqual({
      name: 'lib',
      version: '1.0',
      attributes: scope.attributes,
      droppedAttributesCount: 1,
      schemaUrl: scope.schemaUrl,
    });
    expect(decoded.size).toBeGreaterThan(100);
  });

  it('gives equal resources and scopes equal keys, and different ones different keys', () => {
    const other = { ...resource, attributes: [], key: 'other' };
    const body = new OtlpEncoder().encode([
      record(span()),
      record(span()),
      { ...record(span()), resource: other },
    ]);
    const [a, b, c] = decodeOtlpProto(body).records;
    expect(a?.resource.key).toBe(b?.resource.key);
    expect(a?.resource.key).not.toBe(c?.resource.key);
    expect(a?.scope.key).toBe(c?.scope.key);
  });

  it('rejects spans with unusable ids alone, naming the first', () => {
    const batch = decodeOtlpProto(
      encode([
        span({ spanId: 'abcd' }),
        span(),
        span({ traceId: '0'.repeat(32) }),
        span({ parentSpanId: '01' }),
      ]),
    );
    expect(batch.records).toHaveLength(1);
    expect(batch.rejected).toBe(3);
    expect(batch.problem).toBe(
      '3 of 4 spans rejected; first: resourceSpans[0].scopeSpans[0].spans[0]: span_id must be 8 bytes (16 hex digits), got "abcd"',
    );
  });

  it('skips fields it does not know', () => {
    // A later version's top-level field 15 (varint 1), after the request the encoder wrote.
    const body = Buffer.concat([Buffer.from(encode([span()])), Buffer.from([15 << 3, 1])]);
    expect(decodeOtlpProto(body).records).toHaveLength(1);
  });

  it('refuses a truncated body', () => {
    const body = encode([span()]);
    expect(() => decodeOtlpProto(body.subarray(0, body.length - 10))).toThrow(
      refused(/^body is not a protobuf ExportTraceServiceRequest: /),
    );
  });

  it('refuses a time with the wrong wire type', () => {
    const w = protobuf.Writer.create();
    const spanBytes = protobuf.Writer.create()
      .uint32((7 << 3) | 0)
      .uint32(5)
      .finish();
    const scopeSpans = protobuf.Writer.create()
      .uint32((2 << 3) | 2)
      .bytes(spanBytes)
      .finish();
    const resourceSpans = protobuf.Writer.create()
      .uint32((2 << 3) | 2)
      .bytes(scopeSpans)
      .finish();
    w.uint32((1 << 3) | 2).bytes(resourceSpans);
    expect(() => decodeOtlpProto(w.finish())).toThrow(refused(/Span field 7 has wire type 0, expected 1/));
  });

  it('refuses attribute values nested deeper than the limit, before recursing further', () => {
    let value: AnyValue = { type: 'string', value: 'bottom' };
    for (let i = 0; i < 200; i++) value = { type: 'array', value: [value] };
    const body = encode([span({ attributes: [{ key: 'deep', value }] })]);
    expect(() => decodeOtlpProto(body)).toThrow(refused(/nest deeper than 32 levels/));
  });

  it('bounds every length by its enclosing message, not only by the body', () => {
    const ids = otlpSpan(TRACE, SPAN, 'n').slice(0, 2);
    // Each claims 5 bytes more than its message holds; the 5 bytes follow (a scope schema URL), in the body.
    const tail = [bytesField(3, 'abc')];
    const overruns = [
      [...ids, bytesField(5, 'n', 5)],
      [...ids, message(9, [bytesField(1, 'k', 5)])],
      [...ids, message(9, [bytesField(1, 'k'), message(2, [bytesField(1, 'v', 5)])])],
      [...ids, message(11, [bytesField(2, 'e', 5)])],
      [...ids, message(13, [hexField(1, TRACE), bytesField(2, 'ab', 5)])],
    ];
    for (const fields of overruns) {
      expect(() => decodeOtlpProto(otlpRequest([fields], tail))).toThrow(
        refused(/runs past the end of its enclosing message|index out of range/),
      );
    }
    expect(decodeOtlpProto(otlpRequest([[...ids, bytesField(5, 'n')]], tail)).records).toHaveLength(1);
  });

  it('reads each accepted span the same from its own bytes as from the request (what the worker gets)', () => {
    const batch = decodeOtlpProto(encode([span(), span({ spanId: '00000000000000aa' })]));
    const again = decodeOtlpProto(new OtlpEncoder().encode(batch.records, batch.spanBytes));
    expect(again.records.map((r) => r.span)).toEqual(batch.records.map((r) => r.span));
  });
});
