import fastify, { type FastifyInstance } from 'fastify';
import type { RelayMetrics } from './metrics.ts';
import { OPENMETRICS_CONTENT_TYPE, openMetricsText, wantsOpenMetrics } from './openmetrics-text.ts';

/**
 * /metrics for Prometheus, /healthz for liveness (the process answers), /readyz for readiness (the
 * pipeline runs and can take data: `notReady` names why not); `routes` adds the wiring's own (the version judge's /v1/versions), so that this file
 * imports no stage.
 */
export function createAdminServer(
  metrics: RelayMetrics,
  notReady: () => string | undefined,
  routes: (app: FastifyInstance) => void = () => {},
): FastifyInstance {
  const app = fastify({ logger: false, forceCloseConnections: true });
  routes(app);
  app.get('/metrics', async (request, reply) => {
    // Exemplars exist only in OpenMetrics; Prometheus asks for it when its exemplar storage is on.
    const openMetrics = wantsOpenMetrics(request.headers.accept);
    const extra = metrics.expositions.map((write) => write(openMetrics));
    if (openMetrics) {
      reply.type(OPENMETRICS_CONTENT_TYPE);
      return openMetricsText(metrics.registry, extra);
    }
    reply.type(metrics.registry.contentType);
    return (await metrics.registry.metrics()) + extra.join('');
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const reason = notReady();
    if (reason === undefined) return { status: 'ready' };
    reply.code(503);
    return { status: 'not ready', reason };
  });
  return app;
}
