import fastify, { type FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import { overloaded, unauthorized } from '../lib/errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { RelayMetrics } from '../telemetry/metrics.ts';
import { bearerAuth } from './auth.ts';
import { BEACON_MEDIA_TYPES, registerBeaconRoute } from './beacon-route.ts';
import type { ReceiverConfig } from './config.ts';
import { decodeContentEncoding } from './decode-body.ts';
import { errorHandler, jsonErrorBody } from './error-handler.ts';
import { type HttpLimits, httpLimits } from './http-limits.ts';
import type { IngestContext } from './ingest-context.ts';
import { otlpErrorBody } from './otlp/otlp-response.ts';
import { registerTracesRoute, TRACES_PATH } from './otlp/traces-route.ts';

const SHED_BECAUSE = {
  memory: 'the relay is over its memory limit',
  storage: 'the persistent export queue cannot write to its storage (is the disk full?)',
  queue: 'the export queue is nearly full (the backend is slow or down, or its disk is nearly full)',
} as const;

/** The ingest server: body decoding, auth, error answers, and the ingest routes. */
export function createReceiver(config: ReceiverConfig, ingest: IngestContext, log: Logger): FastifyInstance {
  const limits = httpLimits(config);
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
  });
  boundConnections(app, limits, ingest.metrics);
  const limit = config.max_request_body_size;

  // Ack latency runs from here (headers parsed, route found) to the 202: fastify keeps no start time
  // unless response hooks are registered, which would cost more than this one number. Shedding is
  // decided here too, before the body is read or parsed: under overload the cheapest refusal is best.
  const { admission } = ingest;
  app.decorateRequest('receivedAt', 0);
  app.addHook('onRequest', (request, _reply, done) => {
    request.receivedAt = performance.now();
    done(
      admission.shedding
        ? overloaded(admission.retryAfter, SHED_BECAUSE[admission.why ?? 'memory'])
        : undefined,
    );
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser([...BEACON_MEDIA_TYPES], { parseAs: 'buffer' }, (request, body, done) => {
    const decoded = decodeContentEncoding(body as Buffer, request.headers['content-encoding'], limit);
    if (decoded instanceof Error) done(decoded, undefined);
    else done(null, decoded);
  });

  if (config.auth.tokens.length > 0) {
    const allowed = bearerAuth(config.auth.tokens);
    app.addHook('onRequest', (request, reply, done) => {
      if (allowed(request.headers.authorization)) return done();
      // The body is never read: the connection closes after the 401, so that an unauthenticated
      // client cannot keep it open (or hold memory) by sending a body slowly or not at all.
      reply.header('connection', 'close');
      done(unauthorized());
    });
  }

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
 * for at most read_timeout.
 */
function boundConnections(app: FastifyInstance, limits: HttpLimits, metrics: RelayMetrics): void {
  const { server } = app;
  server.requestTimeout = limits.requestTimeout;
  server.keepAliveTimeout = limits.keepAliveTimeout;
  server.maxConnections = limits.maxConnections;
  server.on('drop', () => metrics.rejected('too_many_connections'));
  server.on('clientError', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') metrics.rejected('timed_out');
  });
  new Gauge({
    name: 'edge_relay_receiver_connections',
    help: 'Connections open to the ingest server (receiver.max_connections bounds them)',
    registers: [metrics.registry],
    collect() {
      return new Promise<void>((resolve) =>
        server.getConnections((_err, count) => {
          this.set(count);
          resolve();
        }),
      );
    },
  });
}
