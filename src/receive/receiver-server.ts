import type { Server as HttpsServer } from 'node:https';
import fastify, { type FastifyInstance } from 'fastify';
import { overloaded, unauthorized } from '../lib/errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { type Authenticator, ReceiverAuth } from './auth.ts';
import { BEACON_MEDIA_TYPES, registerBeaconRoute } from './beacon-route.ts';
import type { ReceiverConfig } from './config.ts';
import { decodeContentEncoding } from './decode-body.ts';
import { errorHandler, jsonErrorBody } from './error-handler.ts';
import type { IngestContext } from './ingest-context.ts';
import { otlpErrorBody } from './otlp/otlp-response.ts';
import { registerTracesRoute, TRACES_PATH } from './otlp/traces-route.ts';
import { reloadTlsOnChange, serverTlsOptions, tlsEnabled } from './receiver-tls.ts';

const SHED_BECAUSE = {
  memory: 'the relay is over its memory limit',
  queue: 'the export queue is nearly full (the backend is slow or down)',
} as const;

/**
 * The ingest server: body decoding, auth, error answers, and the ingest routes. `auth` is the check that
 * a reload updates (service/start-relay.ts); by default one is built from `config.auth` that nothing updates.
 */
export function createReceiver(
  config: ReceiverConfig,
  ingest: IngestContext,
  log: Logger,
  auth: Authenticator = new ReceiverAuth(config.auth, {
    registry: ingest.metrics.registry,
    clientIp: ingest.clientIp,
    log,
  }),
): FastifyInstance {
  // fastify types an https server apart from an http one; the receiver uses neither's own API.
  const app = fastify({
    logger: false,
    bodyLimit: config.max_request_body_size,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ...(tlsEnabled(config.tls) ? { https: serverTlsOptions(config.tls) } : {}),
  }) as FastifyInstance;
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
  // refusal is best. Auth comes first: a caller without a token learns nothing of the relay's state.
  // The hook is installed even without tokens (it lets everything in then): a reload may add the
  // first ones, and fastify takes no hooks once it listens.
  const { admission } = ingest;
  app.decorateRequest('receivedAt', 0);
  app.addHook('onRequest', (request, _reply, done) => {
    request.receivedAt = performance.now();
    const { authorization, 'x-forwarded-for': forwardedFor } = request.headers;
    const peer = request.socket.remoteAddress ?? '';
    if (!auth.authenticate(authorization, peer, forwardedFor as string | undefined)) done(unauthorized());
    else if (admission.shedding)
      done(overloaded(admission.retryAfter, SHED_BECAUSE[admission.why ?? 'memory']));
    else done();
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser([...BEACON_MEDIA_TYPES], { parseAs: 'buffer' }, (request, body, done) => {
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
