import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import Fastify from 'fastify';
import type { Beacon } from '../../src/model/beacon.ts';
import { BeaconIds, recordBeacon } from './sdk-spans.ts';
import { acceptedSpans, serve } from './serve.ts';

// What a Node user would write instead of edge-relay: fastify plus the official OpenTelemetry JS SDK
// with its default BatchSpanProcessor and OTLP protobuf exporter settings. The SDK has one resource
// per provider, so the edge identity goes on every span. Usage: sdk-relay.ts <traces-url>

const ids = new BeaconIds();
const provider = new TracerProvider({
  idGenerator: ids,
  resource: resourceFromAttributes({ 'service.name': 'edge-relay-sdk-peer' }),
  spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: process.argv[2] }) })],
});
const tracer = provider.getTracer('edge-relay-bench');

const app = Fastify({ logger: false });
const accepted = acceptedSpans(app);
app.post('/v1/beacons', async (request, reply) => {
  const beacon = request.body as Beacon;
  recordBeacon(tracer, ids, beacon, {
    'service.name': beacon.service ?? 'edgeworker',
    'akamai.edgeworker.id': beacon.worker.id,
    'akamai.edgeworker.version': beacon.worker.version,
    'akamai.edge.ip': beacon.edge?.ip ?? request.ip,
    'akamai.edge.pop': beacon.edge?.pop ?? 'unknown',
    'akamai.request.id': beacon.edge?.requestId,
  });
  accepted(beacon.spans.length);
  return reply.code(202).send();
});
// Lets the harness count what the SDK delivers without waiting out its 5 s schedule.
app.post('/flush', async (_request, reply) => {
  await provider.forceFlush();
  return reply.code(204).send();
});
await serve(app, () => provider.shutdown());
