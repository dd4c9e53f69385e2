import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { shardOf } from '../handoff/shard-of.ts';
import { invalid, overloaded, shuttingDown, walFull } from '../lib/errors.ts';
import { PROTOBUF } from '../lib/media-types.ts';
import type { Beacon } from '../model/beacon.ts';
import { decodeBeaconProto } from './beacon/decode-beacon-proto.ts';
import { validateBeacon } from './beacon/validate-beacon.ts';
import type { IngestContext } from './ingest-context.ts';

export const BEACONS_PATH = '/v1/beacons';

/**
 * Reads the body as a beacon: its parsed value, the JSON text handed to the worker, and whether the
 * body is that text (then the write-ahead log copies the body's bytes instead of encoding the text).
 */
function readBeacon(body: Buffer, contentType: string): { value: unknown; text: string; json: boolean } {
  if (contentType.startsWith(PROTOBUF)) {
    const value = decodeBeaconProto(body);
    return { value, text: JSON.stringify(value), json: false };
  }
  const text = body.toString('utf8');
  try {
    return { value: JSON.parse(text), text, json: true };
  } catch (err) {
    throw invalid(`body is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * POST /v1/beacons: validate, hand off, 202. The reply is sent as soon as the beacon is validated and
 * queued for its shard (with the write-ahead log on: once its group commit is on disk); enrichment,
 * sampling and export happen later, in the worker threads.
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

  const acknowledge = (request: FastifyRequest, reply: FastifyReply, spans: number): void => {
    accepted.inc();
    spansAccepted.inc(spans);
    reply.code(202).send();
    ackLatency.observe((performance.now() - request.receivedAt) / 1000);
  };

  app.post(BEACONS_PATH, { onError: countRejected }, (request, reply) => {
    const body = request.body as Buffer;
    const { value, text, json } = readBeacon(body, request.headers['content-type'] ?? '');
    const problem = validateBeacon(value);
    if (problem) throw problem;
    if (!ingest.accepting) throw shuttingDown();
    const beacon = value as Beacon;
    const from = {
      ip: ingest.clientIp(
        request.socket.remoteAddress ?? '',
        request.headers['x-forwarded-for'] as string | undefined,
      ),
      identity: request.identity,
    };
    const shard = shardOf(beacon.traceId, ingest.shards);
    const spans = beacon.spans.length;
    const { wal } = ingest;
    if (wal === undefined) {
      // A full hand-off drains in milliseconds once the worker catches up: Retry-After's smallest unit will do.
      if (!ingest.handoff.offer(shard, from, beacon, text)) throw overloaded(1);
      acknowledge(request, reply, spans);
      return;
    }
    if (!ingest.handoff.hasRoom(shard)) throw overloaded(1);
    if (!wal.hasRoom()) throw walFull(ingest.admission.retryAfter);
    // Handed off only once it is on disk: a request whose commit fails was never accepted anywhere.
    wal.beacon(shard, from, json ? body : text, spans, (error, segment) => {
      if (error) {
        reply.send(error);
        return;
      }
      ingest.handoff.push(shard, from, beacon, text, segment);
      acknowledge(request, reply, spans);
    });
  });
}
