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

/**
 * The spans of a batch of `spans` that count as rejected: the backend's claim held within [0, spans].
 * `lie` says the claim was outside that range (negative, or more spans than were sent), so that it
 * can be counted: a backend's number must never make the exported count fall or exceed what was sent.
 */
export function rejectedOf(claimed: number, spans: number): { rejected: number; lie: boolean } {
  const rejected = Math.min(spans, Math.max(0, claimed));
  return { rejected, lie: rejected !== claimed };
}
