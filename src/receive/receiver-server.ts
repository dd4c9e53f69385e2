import type { Server as HttpsServer } from 'node:https';
import fastify, { type FastifyInstance } from 'fastify';
import { overloaded, RequestError } from '../lib/errors.ts';
import { SPAN_MEDIA_TYPES } from '../lib/media-types.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { ReceiverMetricsWriter } from '../telemetry/receiver-metrics.ts';
import { type Authenticator, type AuthVerdict, ReceiverAuth } from './auth/receiver-auth.ts';
import { BEACONS_PATH, registerBeaconRoute } from './beacon-route.ts';
import type { ReceiverConfig } from './config.ts';
import { decodeContentEncoding } from './decode-body.ts';
import { errorHandler, jsonErrorBody } from './error-handler.ts';
import { type HttpLimits, httpLimits } from './http-limits.ts';
import type { IngestContext } from './ingest-context.ts';
import { otlpErrorBody } from './otlp/otlp-response.ts';
import { registerTracesRoute, TRACES_PATH } from './otlp/traces-route.ts';
import { reloadTlsOnChange, serverTlsOptions, tlsEnabled } from './receiver-tls.ts';

/** Routes that carry spans: refused unread while no shard has room for more. */
const SPAN_ROUTES = new Set([BEACONS_PATH, TRACES_PATH]);

const SHED_BECAUSE = {
  memory: 'the relay is over its memory limit',
  storage: 'the persistent export queue cannot write to its storage (is the disk full?)',
  queue: 'the export queue is nearly full (the backend is slow or down, or its disk is nearly full)',
} as const;

/**
 * The ingest server: body decoding, auth, error answers, and the ingest routes. `auth` is the check that
 * a reload updates (service/start-relay.ts); by default one is built from `config.auth` that nothing updates.
 */
export function createReceiver(
  config: ReceiverConfig,
  ingest: IngestContext,
  log: Logger,
  auth: Authenticator = new ReceiverAuth(config.auth, { clientIp: ingest.clientIp, log }),
  /** Receiver threads share `receiver.max_connections` evenly. */
  receivers = 1,
): FastifyInstance {
  const limits = httpLimits(config, receivers);
  // fastify types an https server apart from an http one; the receiver uses neither's own API.
  const app = fastify({
    logger: false,
    bodyLimit: config.max_request_body_size,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    http: {
      requestTimeout: limits.requestTimeout,
      headersTimeout: limits.headersTimeout,
      connectionsCheckingInterval: limits.connectionsCheckingInterval,
    },
    ...(tlsEnabled(config.tls) ? { https: serverTlsOptions(config.tls) } : {}),
  }) as FastifyInstance;
  boundConnections(app, limits, ingest.metrics);
  if (tlsEnabled(config.tls)) {
    const stop = reloadTlsOnChange(app.server as unknown as HttpsServer, config.tls, log);
    app.addHook('onClose', (_instance, done) => {
      stop();
      done();
    });
  }
  const limit = config.max_request_body_size;

  // Ack latency runs from here (headers parsed, route found) to the 202: fastify keeps no start time
  // unless response hooks are registered, which would cost more than this one number. Auth and
  // shedding are decided here too, before the body is read or parsed: under overload the cheapest
  // refusal is best. Auth comes first: a caller without a credential learns nothing of the relay's
  // state. The hook is installed even without credentials (it lets everything in then): a reload may
  // add the first ones, and fastify takes no hooks once it listens. It stays synchronous for every
  // request but one with a JWT not verified before, which waits for its signature check.
  const { admission } = ingest;
  app.decorateRequest('receivedAt', 0);
  app.decorateRequest('identity', '');
  app.addHook('onRequest', (request, reply, done) => {
    request.receivedAt = performance.now();
    const settle = (verdict: AuthVerdict): void => {
      if (verdict instanceof RequestError) {
        // The body is never read: the connection closes after the refusal, so that an unauthenticated
        // client cannot keep it open (or hold memory) by sending a body slowly or not at all.
        reply.header('connection', 'close');
        done(verdict);
      } else if (admission.shedding) {
        done(overloaded(admission.retryAfter, SHED_BECAUSE[admission.why ?? 'memory']));
      } else if (ingest.handoff.full() && SPAN_ROUTES.has(request.routeOptions.url ?? '')) {
        // Whatever the body holds, its shard would refuse it once parsed: refused unread, the request
        // leaves the CPU to the shards that are behind instead of spending it on a parse (the route's
        // own check stays, for a request to the one shard that is full while others are not). The
        // hand-off is asked first: fastify builds a new routeOptions object on every read.
        done(overloaded(1));
      } else {
        request.identity = verdict;
        done();
      }
    };
    const verdict = auth.authenticate(request.headers, request.socket.remoteAddress ?? '');
    if (verdict instanceof Promise) verdict.then(settle, done);
    else settle(verdict);
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser([...SPAN_MEDIA_TYPES], { parseAs: 'buffer' }, (request, body, done) => {
    const decoded = decodeContentEncoding(body as Buffer, request.headers['content-encoding'], limit);
    if (decoded instanceof Error) done(decoded, undefined);
    else done(null, decoded);
  });

  app.setErrorHandler(
    errorHandler(ingest.metrics, log, (request) =>
      request.routeOptions.url === TRACES_PATH
        ? otlpErrorBody(request.headers['content-type'])
        : jsonErrorBody,
    ),
  );
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url}` });
  });
  registerBeaconRoute(app, ingest);
  registerTracesRoute(app, ingest);
  return app;
}

/**
 * Applies what fastify's own options cannot say (a zero keep-alive timeout, the connection cap) and
 * counts the connections cut by them: the receiver's memory is bounded by connections times body size,
 * for at most read_timeout. Open connections are counted as they come and go (in shared memory, so the
 * main thread can sum every receiver thread's without asking them).
 */
function boundConnections(app: FastifyInstance, limits: HttpLimits, metrics: ReceiverMetricsWriter): void {
  const { server } = app;
  server.requestTimeout = limits.requestTimeout;
  server.keepAliveTimeout = limits.keepAliveTimeout;
  server.maxConnections = limits.maxConnections;
  server.on('drop', () => metrics.rejected('too_many_connections'));
  server.on('clientError', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') metrics.rejected('timed_out');
  });
  // The TCP connection, also under TLS (a tls.Server is a net.Server that emits it before the handshake).
  const closed = () => metrics.connections(-1);
  server.on('connection', (socket: NodeJS.EventEmitter) => {
    metrics.connections(1);
    socket.once('close', closed);
  });
}
