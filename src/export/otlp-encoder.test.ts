import type { Attributes } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { docsBeacon } from '../../test/support/docs-beacon.ts';
import { beaconToSpans } from '../enrich/beacon-to-spans.ts';
import { edgeResources } from '../enrich/edge-resource.ts';
import { loadProto } from '../model/proto-files.ts';
import type { AnyValue, KeyValue, SpanRecord } from '../model/span.ts';
import { decodeOtlpJson } from '../receive/otlp/decode-otlp-json.ts';
import { OtlpEncoder } from './otlp-encoder.ts';
import { encodeOtlpJson } from './otlp-json-encoder.ts';

const Request = loadProto('opentelemetry/proto/collector/trace/v1/trace_service.proto').lookupType(
  'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
);
const decode = (bytes: Uint8Array) =>
  Request.toObject(Request.decode(bytes), { longs: String, bytes: String, defaults: true, arrays: true });

const beacon = docsBeacon();
const resourceOf = edgeResources({ pops: [], default_service_name: 'edgeworker', pop_cache_size: 10 });

/** What the OpenTelemetry SDK would hold for the same span: the input of the independent serializer. */
function plain(value: AnyValue): unknown {
  switch (value.type) {
    case 'array':
      return value.value.map(plain);
    case 'int':
      return Number(value.value);
    case 'string':
    case 'bool':
    case 'double':
      return value.value;
    default:
      throw new Error(`the SDK cannot express ${value.type} attributes`);
  }
}
const sdkAttributes = (list: readonly KeyValue[]): Attributes =>
  Object.fromEntries(list.map((a) => [a.key, plain(a.value)])) as Attributes;
const hrTime = (ns: bigint): [number, number] => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];

// The serializer groups spans by Resource and scope object identity, as the SDK shares one of each per
// provider and tracer: hand it one object per distinct resource and scope.
function interned<T>(make: (key: string) => T): (key: string) => T {
  const made = new Map<string, T>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) {
      value = make(key);
      made.set(key, value);
    }
    return value;
  };
}
const resourceByKey = new Map<string, SpanRecord['resource']>();
const sdkResource = interned((key) =>
  resourceFromAttributes(sdkAttributes((resourceByKey.get(key) as SpanRecord['resource']).attributes)),
);
const sdkScope = interned((key) => {
  const [name, version] = key.split('@') as [string, string];
  return { name, version };
});

function toReadableSpan({ span, resource, scope }: SpanRecord): ReadableSpan {
  resourceByKey.set(resource.key, resource);
  const traceFlags = span.flags & 0xff;
  return {
    name: span.name,
    kind: span.kind - 1,
    spanContext: () => ({
      traceId: span.traceId,
      spanId: span.spanId,
      traceFlags,
      traceState: span.traceState ? new TraceState(span.traceState) : undefined,
    }),
    parentSpanContext: span.parentSpanId
      ? { traceId: span.traceId, spanId: span.parentSpanId, traceFlags, isRemote: false }
      : undefined,
    startTime: hrTime(span.startTimeUnixNano),
    endTime: hrTime(span.endTimeUnixNano),
    duration: hrTime(span.endTimeUnixNano - span.startTimeUnixNano),
    ended: true,
    status: { code: span.status.code, message: span.status.message || undefined },
    attributes: sdkAttributes(span.attributes),
    links: span.links.map((l) => ({
      context: { traceId: l.traceId, spanId: l.spanId, traceFlags: l.flags & 0xff, isRemote: false },
      attributes: sdkAttributes(l.attributes),
      droppedAttributesCount: l.droppedAttributesCount,
    })),
    events: span.events.map((e) => ({
      name: e.name,
      time: hrTime(e.timeUnixNano),
      attributes: sdkAttributes(e.attributes),
      droppedAttributesCount: e.droppedAttributesCount,
    })),
    resource: sdkResource(resource.key),
    instrumentationScope: sdkScope(`${scope.name}@${scope.version}`),
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  } as ReadableSpan;
}

// The SDK always sets OTLP's HAS_IS_REMOTE flag bit (0x100); give our spans the same flags to compare.
const withSdkFlags = (records: SpanRecord[]): SpanRecord[] =>
  records.map((r) => ({ ...r, span: { ...r.span, flags: 0x101, traceState: 'vendor=a,other=b' } }));

/** The beacon's spans plus one with a link, dropped counts and an OK status: every field the SDK can express. */
function everyField(): SpanRecord[] {
  const records = withSdkFlags(beaconToSpans(beacon, resourceOf(beacon, '198.51.100.1')));
  const linked: SpanRecord = {
    ...(records[1] as SpanRecord),
    span: {
      ...(records[1] as SpanRecord).span,
      spanId: 'aaaaaaaaaaaaaaaa',
      links: [
        {
          traceId: 'ffffffffffffffffffffffffffffffff',
          spanId: 'bbbbbbbbbbbbbbbb',
          traceState: '',
          attributes: [{ key: 'link.n', value: { type: 'int', value: -7 } }],
          droppedAttributesCount: 2,
          flags: 0x101,
        },
      ],
      droppedAttributesCount: 3,
      droppedEventsCount: 1,
      droppedLinksCount: 4,
      status: { code: 1, message: '' },
    },
  };
  return [...records, linked];
}

/**
 * What the relay's OTLP/JSON decoder reads from a body, without what it derives from the text: the size
 * estimate and the interning keys of resource and scope.
 */
const readJson = (body: Uint8Array) =>
  decodeOtlpJson(Buffer.from(body)).records.map(({ span, resource, scope }) => ({
    span,
    resource: { ...resource, key: '' },
    scope: { ...scope, key: '' },
  }));

describe('OtlpEncoder', () => {
  it('encodes the same ExportTraceServiceRequest as @opentelemetry/otlp-transformer', () => {
    const all = everyField();
    const ours = new OtlpEncoder().encode(all);
    const theirs = ProtobufTraceSerializer.serializeRequest(all.map(toReadableSpan)) as Uint8Array;
    expect(decode(ours)).toEqual(decode(theirs));
    expect(decode(ours).resourceSpans).toHaveLength(1);
  });

  it('groups spans by resource and scope, reusing cached resource bytes across batches', () => {
    const a = beaconToSpans(beacon, resourceOf(beacon, '198.51.100.1'));
    const other = { ...beacon, worker: { id: '7', version: '2.0.0' } };
    const b = beaconToSpans(other, resourceOf(other, '198.51.100.1'));
    const encoder = new OtlpEncoder();
    const first = decode(encoder.encode([...a, ...b]));
    const second = decode(encoder.encode([...a, ...b]));
    expect(first.resourceSpans).toHaveLength(2);
    expect(second).toEqual(first);
  });

  it('keeps values the SDK cannot express: int64 beyond 2^53, bytes, kvlists, nested arrays', () => {
    const record = beaconToSpans(beacon, resourceOf(beacon, '198.51.100.1'))[0] as SpanRecord;
    const attributes: KeyValue[] = [
      { key: 'big', value: { type: 'int', value: 9_007_199_254_740_993n } },
      { key: 'negative', value: { type: 'int', value: -9_007_199_254_740_993n } },
      { key: 'bytes', value: { type: 'bytes', value: new Uint8Array([0, 1, 254, 255]) } },
      {
        key: 'map',
        value: {
          type: 'kvlist',
          value: [{ key: 'inner', value: { type: 'array', value: [{ type: 'double', value: 1.5 }] } }],
        },
      },
      { key: 'empty', value: { type: 'empty' } },
    ];
    const bytes = new OtlpEncoder().encode([{ ...record, span: { ...record.span, attributes } }]);
    const span = decode(bytes).resourceSpans[0].scopeSpans[0].spans[0];
    expect(span.attributes.map((a: { key: string; value: unknown }) => [a.key, a.value])).toEqual([
      ['big', expect.objectContaining({ intValue: '9007199254740993' })],
      ['negative', expect.objectContaining({ intValue: '-9007199254740993' })],
      ['bytes', expect.objectContaining({ bytesValue: Buffer.from([0, 1, 254, 255]).toString('base64') })],
      [
        'map',
        expect.objectContaining({
          kvlistValue: {
            values: [
              {
                key: 'inner',
                value: expect.objectContaining({
                  arrayValue: { values: [expect.objectContaining({ doubleValue: 1.5 })] },
                }),
              },
            ],
          },
        }),
      ],
      ['empty', expect.objectContaining({})],
    ]);
  });
});

describe('encodeOtlpJson', () => {
  it("carries the same request as the transformer's JSON serializer, read back by the relay's decoder", () => {
    const all = everyField();
    const theirs = JsonTraceSerializer.serializeRequest(all.map(toReadableSpan)) as Uint8Array;
    const ours = encodeOtlpJson(all);
    expect(readJson(ours)).toEqual(readJson(theirs));
    expect(readJson(ours).map((r) => r.span)).toEqual(all.map((r) => r.span));
  });

  it('writes 64-bit integers as decimal strings, exactly', () => {
    const [record] = everyField() as [SpanRecord];
    const big: SpanRecord = {
      ...record,
      span: { ...record.span, attributes: [{ key: 'n', value: { type: 'int', value: 2n ** 62n + 1n } }] },
    };
    const json = JSON.parse(Buffer.from(encodeOtlpJson([big])).toString()) as {
      resourceSpans: { scopeSpans: { spans: { startTimeUnixNano: unknown; attributes: unknown[] }[] }[] }[];
    };
    const span = json.resourceSpans[0]?.scopeSpans[0]?.spans[0];
    expect(span?.startTimeUnixNano).toBe(String(record.span.startTimeUnixNano));
    expect(span?.attributes).toEqual([{ key: 'n', value: { intValue: '4611686018427387905' } }]);
  });
});
