import { performance } from 'node:perf_hooks';
import { constants, gzipSync } from 'node:zlib';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { beaconToSpans } from '../src/enrich/beacon-to-spans.ts';
import { edgeResources } from '../src/enrich/edge-resource.ts';
import { OtlpEncoder } from '../src/export/otlp-encoder.ts';
import type { Beacon } from '../src/model/beacon.ts';
import type { SpanRecord } from '../src/model/span.ts';
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

export interface Contender {
  name: string;
  spans: number;
  /** One round of work; what it returns is measured as bytes per span. */
  run: () => Uint8Array;
}

const ROUNDS = 10;

/**
 * Times the contenders in alternating short rounds and reports each one's median round: a garbage
 * collection or a frequency change then lands in one round of one contender, not in its whole result.
 */
export function timeAlternating(contenders: Contender[], seconds: number): EncodeRate[] {
  const rates = contenders.map(() => [] as number[]);
  const bytes = contenders.map((c) => c.run().length);
  const roundMs = (seconds * 1000) / ROUNDS;
  for (let round = 0; round < ROUNDS; round++) {
    contenders.forEach((contender, i) => {
      let runs = 0;
      const start = performance.now();
      while (performance.now() - start < roundMs) {
        contender.run();
        runs++;
      }
      rates[i]?.push((runs * contender.spans * 1000) / (performance.now() - start));
    });
  }
  return contenders.map((contender, i) => {
    const sorted = (rates[i] as number[]).sort((a, b) => a - b);
    return {
      name: contender.name,
      spansPerSecond: sorted[Math.floor(sorted.length / 2)] as number,
      bytesPerSpan: (bytes[i] as number) / contender.spans,
    };
  });
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
  return timeAlternating(
    [
      { name: 'edge-relay OtlpEncoder', spans: records.length, run: () => encoder.encode(records) },
      {
        name: 'otlp-transformer ProtobufTraceSerializer',
        spans: sdkSpans.length,
        run: () => ProtobufTraceSerializer.serializeRequest(sdkSpans) as Uint8Array,
      },
      {
        name: 'gzip level 1 of the encoded batch',
        spans: records.length,
        run: () => gzipSync(ours, { level: constants.Z_BEST_SPEED }),
      },
    ],
    seconds,
  );
}
