import type { FastifyInstance } from 'fastify';
import { shardOf } from '../handoff/shard-of.ts';
import { invalid, overloaded, shuttingDown } from '../lib/errors.ts';
import type { Beacon } from '../model/beacon.ts';
import { decodeBeaconProto } from './beacon/decode-beacon-proto.ts';
import { validateBeacon } from './beacon/validate-beacon.ts';
import type { IngestContext } from './ingest-context.ts';

export const BEACON_MEDIA_TYPES = ['application/json', 'application/x-protobuf'] as const;

/** Reads the body as a beacon: its parsed value and the JSON text handed to the worker. */
function readBeacon(body: Buffer, contentType: string): { value: unknown; text: string } {
  if (contentType.startsWith('application/x-protobuf')) {
    const value = decodeBeaconProto(body);
    return { value, text: JSON.stringify(value) };
  }
  const text = body.toString('utf8');
  try {
    return { value: JSON.parse(text), text };
  } catch (err) {
    throw invalid(`body is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * POST /v1/beacons: validate, hand off, 202. The reply is sent as soon as the beacon is validated and
 * queued for its shard; enrichment, sampling and export happen later, in the worker threads.
 */
export function registerBeaconRoute(app: FastifyInstance, ingest: IngestContext): void {
  const accepted = ingest.metrics.beaconsReceived.labels({ result: 'accepted' });
  const rejected = ingest.metrics.beaconsReceived.labels({ result: 'rejected' });
  const spansAccepted = ingest.metrics.spansReceived.labels({ result: 'accepted', protocol: 'beacon' });
  const ackLatency = ingest.metrics.ackLatency.labels({ route: 'beacons' });

  const countRejected = (_request: unknown, _reply: unknown, _error: unknown, done: () => void): void => {
    rejected.inc();
    done();
  };

  app.post('/v1/beacons', { onError: countRejected }, (request, reply) => {
    const { value, text } = readBeacon(request.body as Buffer, request.headers['content-type'] ?? '');
    const problem = validateBeacon(value);
    if (problem) throw problem;
    if (!ingest.accepting) throw shuttingDown();
    const beacon = value as Beacon;
    const ip = ingest.clientIp(
      request.socket.remoteAddress ?? '',
      request.headers['x-forwarded-for'] as string | undefined,
    );
    // A full hand-off drains in milliseconds once the worker catches up: Retry-After's smallest unit will do.
    const spans = beacon.spans.length;
    if (!ingest.handoff.offer(shardOf(beacon.traceId, ingest.shards), ip, text, spans)) throw overloaded(1);
    accepted.inc();
    spansAccepted.inc(spans);
    reply.code(202).send();
    ackLatency.observe((performance.now() - request.receivedAt) / 1000);
  });
}
