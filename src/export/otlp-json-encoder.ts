import type { AnyValue, KeyValue, Span, SpanRecord } from '../model/span.ts';
import { groupByResourceAndScope } from './group-spans.ts';

// ExportTraceServiceRequest in the OTLP/JSON encoding (`exporter.encoding: json`): the protobuf JSON
// mapping with OTLP's exceptions — trace and span ids as hex, enums as numbers — and 64-bit integers as
// decimal strings, as the specification asks, so that no value loses precision in a JavaScript reader.

type Json = Record<string, unknown>;

function anyValue(value: AnyValue): Json {
  switch (value.type) {
    case 'string':
      return { stringValue: value.value };
    case 'bool':
      return { boolValue: value.value };
    case 'int':
      return { intValue: String(value.value) };
    case 'double':
      return { doubleValue: value.value };
    case 'bytes':
      return { bytesValue: Buffer.from(value.value).toString('base64') };
    case 'array':
      return { arrayValue: { values: value.value.map(anyValue) } };
    case 'kvlist':
      return { kvlistValue: { values: keyValues(value.value) } };
    case 'empty':
      return {};
  }
}

const keyValues = (attributes: readonly KeyValue[]): Json[] =>
  attributes.map((a) => ({ key: a.key, value: anyValue(a.value) }));

function span(s: Span): Json {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    traceState: s.traceState,
    parentSpanId: s.parentSpanId,
    flags: s.flags,
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: String(s.startTimeUnixNano),
    endTimeUnixNano: String(s.endTimeUnixNano),
    attributes: keyValues(s.attributes),
    droppedAttributesCount: s.droppedAttributesCount,
    events: s.events.map((e) => ({
      timeUnixNano: String(e.timeUnixNano),
      name: e.name,
      attributes: keyValues(e.attributes),
      droppedAttributesCount: e.droppedAttributesCount,
    })),
    droppedEventsCount: s.droppedEventsCount,
    links: s.links.map((l) => ({
      traceId: l.traceId,
      spanId: l.spanId,
      traceState: l.traceState,
      attributes: keyValues(l.attributes),
      droppedAttributesCount: l.droppedAttributesCount,
      flags: l.flags,
    })),
    droppedLinksCount: s.droppedLinksCount,
    status: { message: s.status.message, code: s.status.code },
  };
}

/** Encodes spans as one OTLP/JSON ExportTraceServiceRequest, grouped by resource and scope. */
export function encodeOtlpJson(records: readonly SpanRecord[]): Uint8Array {
  const resourceSpans = [...groupByResourceAndScope(records).values()].map((group) => ({
    resource: {
      attributes: keyValues(group.resource.attributes),
      droppedAttributesCount: group.resource.droppedAttributesCount,
    },
    scopeSpans: [...group.scopes.values()].map(({ scope, spans }) => ({
      scope: {
        name: scope.name,
        version: scope.version,
        attributes: keyValues(scope.attributes),
        droppedAttributesCount: scope.droppedAttributesCount,
      },
      spans: spans.map((i) => span((records[i] as SpanRecord).span)),
      schemaUrl: scope.schemaUrl,
    })),
    schemaUrl: group.resource.schemaUrl,
  }));
  return Buffer.from(JSON.stringify({ resourceSpans }));
}
