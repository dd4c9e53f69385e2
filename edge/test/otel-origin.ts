import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultTextMapGetter, ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

/**
 * An origin service instrumented with the OpenTelemetry SDK as services usually are: W3C propagation, a
 * parent-based sampler (here one that would keep no trace of its own, so only the edge's sampled flag
 * makes it record), and the OTLP/HTTP protobuf exporter to `otlpUrl`.
 */
export class OtelOrigin {
  readonly provider: TracerProvider;
  readonly #server: Server;

  private constructor(provider: TracerProvider, server: Server) {
    this.provider = provider;
    this.#server = server;
  }

  static async start(otlpUrl: string): Promise<OtelOrigin> {
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'shop-origin' }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0) }),
      spanProcessors: [new SimpleSpanProcessor({ exporter: new OTLPTraceExporter({ url: otlpUrl }) })],
    });
    const tracer = provider.getTracer('shop-origin');
    const propagator = new W3CTraceContextPropagator();
    const server = createServer((req, res) => {
      const parent = propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
      const span = tracer.startSpan('GET /product/:id', { kind: SpanKind.SERVER }, parent);
      span.setAttribute('http.response.status_code', 200);
      res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>product</h1>');
      span.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return new OtelOrigin(provider, server);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    await this.provider.shutdown();
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}
