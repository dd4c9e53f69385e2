import protobuf from 'protobufjs/minimal.js';
import { REFUSALS, type RequestError } from '../../lib/errors.ts';
import { JSON_TYPE, PROTOBUF } from '../../lib/media-types.ts';
import type { ErrorBody } from '../error-handler.ts';
import type { OtlpBatch } from './otlp-batch.ts';

// OTLP/HTTP answers in the request's own encoding: ExportTraceServiceResponse on success,
// google.rpc.Status on failure (proto/google/rpc/status.proto).
const { Writer } = protobuf;

export const isProtobuf = (contentType: string | undefined): boolean =>
  (contentType ?? '').toLowerCase().startsWith(PROTOBUF);

/** The ExportTraceServiceResponse body for an accepted batch, with partial_success when spans were rejected. */
export function exportResponse(batch: OtlpBatch, protobufBody: boolean): Uint8Array | string {
  if (!protobufBody)
    return batch.rejected === 0
      ? '{}'
      : JSON.stringify({
          partialSuccess: { rejectedSpans: String(batch.rejected), errorMessage: batch.problem },
        });
  if (batch.rejected === 0) return new Uint8Array(0);
  const w = Writer.create();
  w.uint32((1 << 3) | 2).fork();
  w.uint32(1 << 3).int64(batch.rejected);
  w.uint32((2 << 3) | 2).string(batch.problem);
  w.ldelim();
  return w.finish();
}

function statusProto(code: number, message: string): Uint8Array {
  return Writer.create()
    .uint32(1 << 3)
    .int32(code)
    .uint32((2 << 3) | 2)
    .string(message)
    .finish();
}

/** The error body of the traces route: a google.rpc.Status, protobuf for protobuf requests, JSON otherwise. */
export const otlpErrorBody =
  (contentType: string | undefined): ErrorBody =>
  (error: RequestError) => {
    const code = REFUSALS[error.reason].grpcCode;
    return isProtobuf(contentType)
      ? { contentType: PROTOBUF, body: Buffer.from(statusProto(code, error.message)) }
      : { contentType: JSON_TYPE, body: JSON.stringify({ code, message: error.message }) };
  };
