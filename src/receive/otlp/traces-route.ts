import type { FastifyInstance } from 'fastify';
import { OtlpEncoder } from '../../export/otlp-encoder.ts';
import { shardOf } from '../../handoff/shard-of.ts';
import { overloaded, shuttingDown, walFull } from '../../lib/errors.ts';
import { JSON_TYPE, PROTOBUF } from '../../lib/media-types.ts';
import type { SpanRecord } from '../../model/span.ts';
import { FORWARDED_HEADER, hopsOf } from '../../route/forward-header.ts';
import type { IngestContext } from '../ingest-context.ts';
import type { OtlpPart } from '../wal/write-ahead-log.ts';
import { decodeOtlpJson } from './decode-otlp-json.ts';
import { decodeOtlpProto } from './decode-otlp-proto.ts';
import type { OtlpBatch } from './otlp-batch.ts';
import { exportResponse, isProtobuf } from './otlp-response.ts';

export const TRACES_PATH = '/v1/traces';

interface ShardPart {
  records: SpanRecord[];
  spanBytes: Uint8Array[];
}

/** Groups accepted spans (and their received bytes, if any) by the shard that owns their trace. */
export function byShard(batch: OtlpBatch, shards: number): ShardPart[] {
  const out: ShardPart[] = Array.from({ length: shards }, () => ({ records: [], spanBytes: [] }));
  const { records, spanBytes } = batch;
  for (let i = 0; i < records.length; i++) {
    const record = records[i] as SpanRecord;
    const part = out[shardOf(record.span.traceId, shards)] as ShardPart;
    part.records.push(record);
    if (spanBytes) part.spanBytes.push(spanBytes[i] as Uint8Array);
  }
  return out;
}

/**
 * POST /v1/traces (OTLP/HTTP): decode and check every span here, since partial success must be
 * answered; then hand each shard its spans as an ExportTraceServiceRequest of their own, and answer.
 * A request is taken whole or refused whole (429) when any of its shards is over its bound.
 */
export function registerTracesRoute(app: FastifyInstance, ingest: IngestContext): void {
  const spansAccepted = ingest.metrics.spansReceived.labels({ result: 'accepted', protocol: 'otlp' });
  const spansRejected = ingest.metrics.spansReceived.labels({ result: 'rejected', protocol: 'otlp' });
  const ackLatency = ingest.metrics.ackLatency.labels({ route: 'traces' });
  const encoder = new OtlpEncoder();

  app.post(TRACES_PATH, (request, reply) => {
    const protobufBody = isProtobuf(request.headers['content-type']);
    const body = request.body as Buffer;
    const batch = protobufBody ? decodeOtlpProto(body) : decodeOtlpJson(body);
    spansRejected.inc(batch.rejected);
    if (!ingest.accepting) {
      spansRejected.inc(batch.records.length);
      throw shuttingDown();
    }
    const shards = byShard(batch, ingest.shards);
    if (shards.some((part, shard) => part.records.length > 0 && !ingest.handoff.hasRoom(shard))) {
      spansRejected.inc(batch.records.length);
      throw overloaded(1);
    }
    const { wal } = ingest;
    if (wal && !wal.hasRoom()) {
      spansRejected.inc(batch.records.length);
      throw walFull(ingest.admission.retryAfter);
    }
    const from = {
      ip: ingest.clientIp(
        request.socket.remoteAddress ?? '',
        request.headers['x-forwarded-for'] as string | undefined,
      ),
      identity: request.identity,
    };
    const hops = hopsOf(request.headers[FORWARDED_HEADER]);
    // Received spans are copied as they came, not encoded again; the copy of the encoder's output
    // owns its memory, so it can be transferred to the worker.
    const parts: OtlpPart[] = [];
    for (const [shard, { records, spanBytes }] of shards.entries()) {
      if (records.length === 0) continue;
      parts.push({ shard, body: new Uint8Array(encoder.encode(records, spanBytes)), spans: records.length });
    }
    const answer = () => {
      spansAccepted.inc(batch.records.length);
      reply
        .code(200)
        .type(protobufBody ? PROTOBUF : JSON_TYPE)
        .send(exportResponse(batch, protobufBody));
      ackLatency.observe((performance.now() - request.receivedAt) / 1000);
    };
    if (wal === undefined) {
      for (const { shard, body, spans } of parts)
        ingest.handoff.offerOtlp(shard, from, { body, hops, spans });
      answer();
      return;
    }
    wal.otlp(from, hops, parts, (error, segment) => {
      if (error) {
        spansRejected.inc(batch.records.length);
        reply.send(error);
        return;
      }
      for (const { shard, body, spans } of parts)
        ingest.handoff.offerOtlp(shard, from, { body, hops, spans, segment });
      answer();
    });
  });
}
