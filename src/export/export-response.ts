import { loadProto } from '../model/proto-files.ts';

const Response = loadProto('opentelemetry/proto/collector/trace/v1/trace_service.proto').lookupType(
  'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
);

export interface PartialSuccess {
  rejectedSpans: number;
  errorMessage: string;
}

/** Reads `partial_success` from a protobuf ExportTraceServiceResponse; an unreadable body counts as full success. */
export function readPartialSuccess(body: Uint8Array): PartialSuccess | undefined {
  if (body.length === 0) return undefined;
  try {
    const message = Response.toObject(Response.decode(body), { longs: Number }) as {
      partialSuccess?: { rejectedSpans?: number; errorMessage?: string };
    };
    const partial = message.partialSuccess;
    if (!partial || (!partial.rejectedSpans && !partial.errorMessage)) return undefined;
    return { rejectedSpans: partial.rejectedSpans ?? 0, errorMessage: partial.errorMessage ?? '' };
  } catch {
    return undefined;
  }
}
