import { performance } from 'node:perf_hooks';
import { constants, gzipSync } from 'node:zlib';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { edgeResources } from '../src/enrich/edge-resource.ts';
import { OtlpEncoder } from '../src/export/otlp-encoder.ts';
import type { SpanRecord } from '../src/model/span.ts';
import type { Beacon } from '../src/receive/beacon/beacon.ts';
import { beaconToSpans } from '../src/receive/beacon/beacon-to-spans.ts';
import type { BeaconFactory } from './beacons.ts';
import { BeaconIds, recordBeacon } from './peers/sdk-spans.ts';

// Micro-bench: OTLP protobuf encoding of the same spans by the relay's encoder and by the SDK's
// ProtobufTraceSerializer (what the SDK exporter runs), in batches of the SDK's default 512 spans.
// Both get the same content: the relay's enriched resource, each beacon span with its attributes.

const BATCH = 512;

export interface EncodeRate {
  name: string;
  spansPerSecond: number;
  bytesPerSpan: number;
}

function timeIt(name: string, seconds: number, spans: number, run: () => Uint8Array): EncodeRate {
  let bytes = run().length;
  let rounds = 0;
  const start = performance.now();
  const until = start + seconds * 1000;
  while (performance.now() < until) {
    bytes = run().length;
    rounds++;
  }
  const elapsed = (performance.now() - start) / 1000;
  return { name, spansPerSecond: (rounds * spans) / elapsed, bytesPerSpan: bytes / spans };
}

export function encodeBench(beacons: BeaconFactory, seconds: number): EncodeRate[] {
  const parsed: Beacon[] = [];
  while (parsed.length * beacons.spansPerBeacon < BATCH) parsed.push(JSON.parse(beacons.next().toString()));
  const resourceOf = edgeResources({ pops: [], default_service_name: 'edgeworker', pop_cache_size: 16 });
  const records: SpanRecord[] = parsed
    .flatMap((b) => beaconToSpans(b, resourceOf(b, '127.0.0.1')))
    .slice(0, BATCH);
  const resource = records[0]?.resource;
  if (!resource) throw new Error('no spans to encode');

  const memory = new InMemorySpanExporter();
  const ids = new BeaconIds();
  const provider = new TracerProvider({
    idGenerator: ids,
    resource: resourceFromAttributes(
      Object.fromEntries(
        resource.attributes.map((a) => [a.key, 'value' in a.value ? a.value.value : undefined]),
      ) as Record<string, string>,
    ),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer('edge-relay-bench');
  for (const b of parsed) recordBeacon(tracer, ids, b, { 'akamai.request.id': b.edge?.requestId });
  const sdkSpans = memory.getFinishedSpans().slice(0, BATCH);

  const encoder = new OtlpEncoder();
  const ours = encoder.encode(records);
  return [
    timeIt('edge-relay OtlpEncoder', seconds, records.length, () => encoder.encode(records)),
    timeIt(
      'otlp-transformer ProtobufTraceSerializer',
      seconds,
      sdkSpans.length,
      () => ProtobufTraceSerializer.serializeRequest(sdkSpans) as Uint8Array,
    ),
    timeIt('gzip level 1 of the encoded batch', seconds, records.length, () =>
      gzipSync(ours, { level: constants.Z_BEST_SPEED }),
    ),
  ];
}
