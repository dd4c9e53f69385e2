import { beaconToSpans } from '../../src/enrich/beacon-to-spans.ts';
import { edgeResources } from '../../src/enrich/edge-resource.ts';
import { OtlpEncoder } from '../../src/export/otlp-encoder.ts';
import type { HandoffItem } from '../../src/handoff/messages.ts';
import type { Beacon } from '../../src/model/beacon.ts';
import { decodeBeaconProto } from '../../src/receive/beacon/decode-beacon-proto.ts';
import { validateBeacon } from '../../src/receive/beacon/validate-beacon.ts';
import { decodeOtlpJson } from '../../src/receive/otlp/decode-otlp-json.ts';
import { decodeOtlpProto } from '../../src/receive/otlp/decode-otlp-proto.ts';
import { isProtobuf } from '../../src/receive/otlp/otlp-response.ts';
import { resolveConfig } from '../../src/service/load-config.ts';
import type { RoutedCase } from './fuzz-targets.ts';

// What a worker thread does with what the receiver accepted, run here: the fuzzers' oracle for the
// failures a client never sees (issue 20, item 1: the receiver took a body the worker could not read).

const resourceOf = edgeResources(resolveConfig({}).enrichment);
const encoder = new OtlpEncoder();

/** A worker's reading of one OTLP hand-off item; throws when it does not get all `spans` back. */
export function readOtlpHandoff(body: Uint8Array, spans: number): void {
  const records = decodeOtlpProto(body).records;
  if (records.length !== spans) throw new Error(`a worker reads ${records.length} of ${spans} spans`);
}

/** A worker's reading of one beacon hand-off item (convert, enrich, encode); throws when it cannot. */
export function readBeaconHandoff(item: HandoffItem, spans: number): void {
  const records = beaconToSpans(item.b, resourceOf(item.b, item.ip));
  if (records.length !== spans) throw new Error(`a worker reads ${records.length} of ${spans} spans`);
  encoder.encode(records);
}

/**
 * For a body the relay answered 2xx: what a worker would have failed to read of it, the way the
 * receiver hands it on (OTLP spans re-encoded around their received bytes, beacons as JSON text).
 */
export function workerProblem(fuzz: RoutedCase): string | undefined {
  const protobuf = isProtobuf(fuzz.headers['content-type']);
  try {
    if (fuzz.route === '/v1/traces') {
      const batch = protobuf ? decodeOtlpProto(fuzz.body) : decodeOtlpJson(fuzz.body);
      readOtlpHandoff(encoder.encode(batch.records, batch.spanBytes), batch.records.length);
      return undefined;
    }
    const value = protobuf ? decodeBeaconProto(fuzz.body) : JSON.parse(fuzz.body.toString('utf8'));
    if (validateBeacon(value)) return 'the relay took a beacon its validator refuses';
    const beacon = JSON.parse(JSON.stringify(value)) as Beacon;
    readBeaconHandoff({ ip: '127.0.0.1', b: beacon }, beacon.spans.length);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
