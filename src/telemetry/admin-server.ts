import fastify, { type FastifyInstance } from 'fastify';
import type { RelayMetrics } from './metrics.ts';
import { OPENMETRICS_CONTENT_TYPE, openMetricsText, wantsOpenMetrics } from './openmetrics-text.ts';

/** /metrics for Prometheus, /healthz for liveness (the process answers), /readyz for readiness (the pipeline runs). */
export function createAdminServer(metrics: RelayMetrics, isReady: () => boolean): FastifyInstance {
  const app = fastify({ logger: false, forceCloseConnections: true });
  app.get('/metrics', async (request, reply) => {
    // Exemplars exist only in OpenMetrics; Prometheus asks for it when its exemplar storage is on.
    if (wantsOpenMetrics(request.headers.accept)) {
      reply.type(OPENMETRICS_CONTENT_TYPE);
      return openMetricsText(metrics.registry);
    }
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = isReady();
    reply.code(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not ready' };
  });
  return app;
}
