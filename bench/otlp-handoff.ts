// Main-thread cost per span of taking an OTLP request: decode (needed to validate and answer partial
// success), then one hand-off form per shard. Run: node bench/otlp-handoff.ts [spansPerRequest] [shards]
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { OtlpEncoder } from '../src/export/otlp-encoder.ts';
import { shardOf } from '../src/handoff/shard-of.ts';
import type { SpanRecord } from '../src/model/span.ts';
import { decodeOtlpJson } from '../src/receive/otlp/decode-otlp-json.ts';
import { decodeOtlpProto } from '../src/receive/otlp/decode-otlp-proto.ts';
import { randomSpanId, randomTraceId } from '../test/support/ids.ts';

const SPANS = Number(process.argv[2] ?? 512);
const SHARDS = Number(process.argv[3] ?? 2);
const ROUND_MS = 700;

const resource = resourceFromAttributes({
  'service.name': 'checkout',
  'service.version': '1.2.3',
  'host.name': 'h1',
});
function span(traceId: string): ReadableSpan {
  const spanId = randomSpanId();
  return {
    name: 'GET /api/cart',
    kind: SpanKind.SERVER,
    spanContext: () => ({ traceId, spanId, traceFlags: 1 }),
    parentSpanContext: { traceId, spanId: randomSpanId(), traceFlags: 1 },
    startTime: [1764000000, 123456789],
    endTime: [1764000000, 223456789],
    duration: [0, 100000000],
    ended: true,
    status: { code: SpanStatusCode.OK },
    attributes: {
      'http.request.method': 'GET',
      'http.route': '/api/cart',
      'http.response.status_code': 200,
      'url.full': 'https://shop.example.com/api/cart?id=12345',
      'server.address': 'shop.example.com',
      'user_agent.original': 'Mozilla/5.0',
    },
    links: [],
    events: [{ name: 'cache.miss', time: [1764000000, 150000000], attributes: { key: 'cart:1' } }],
    resource,
    instrumentationScope: { name: 'http', version: '1.0.0' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

// One span per trace, as in a batch from a service handling many requests: the split is the worst case.
const spans = Array.from({ length: SPANS }, (_, i) => i).map(() => span(randomTraceId()));
const proto = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array);
const json = Buffer.from(JsonTraceSerializer.serializeRequest(spans) as Uint8Array);

function byShard(records: readonly SpanRecord[], bytes?: Uint8Array[]): [SpanRecord[], Uint8Array[]][] {
  const out: [SpanRecord[], Uint8Array[]][] = Array.from({ length: SHARDS }, () => [[], []]);
  for (const [i, r] of records.entries()) {
    const part = out[shardOf(r.span.traceId, SHARDS)] as [SpanRecord[], Uint8Array[]];
    part[0].push(r);
    if (bytes) part[1].push(bytes[i] as Uint8Array);
  }
  return out;
}

/** Best of three timed rounds: the machine is shared, and the minimum is the least disturbed. */
function measure(name: string, work: () => void): void {
  for (let i = 0; i < 50; i++) work();
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    let runs = 0;
    const start = process.hrtime.bigint();
    const end = start + BigInt(ROUND_MS) * 1_000_000n;
    let now = start;
    while (now < end && runs < 100_000) {
      work();
      runs++;
      now = process.hrtime.bigint();
    }
    best = Math.min(best, Number(now - start) / 1000 / runs / SPANS);
  }
  console.log(`${name.padEnd(56)} ${best.toFixed(2)} µs/span`);
}

const encoder = new OtlpEncoder();
const { records, spanBytes } = decodeOtlpProto(proto);
console.log(
  `${SPANS} spans per request, ${SHARDS} shards, protobuf ${proto.length} B, JSON ${json.length} B`,
);
measure('decode protobuf (receiver)', () => decodeOtlpProto(proto));
measure('decode JSON (receiver)', () => decodeOtlpJson(json));
measure('JSON.parse alone', () => JSON.parse(json.toString('utf8')));
measure('split + copy received span bytes per shard (protobuf)', () => {
  for (const [part, bytes] of byShard(records, spanBytes)) new Uint8Array(encoder.encode(part, bytes));
});
measure('split + encode per shard (JSON; protobuf before)', () => {
  for (const [part] of byShard(records)) new Uint8Array(encoder.encode(part));
});
measure('split + structuredClone per shard (alternative)', () => {
  for (const [part] of byShard(records)) structuredClone(part);
});
measure('decode protobuf again (worker)', () => decodeOtlpProto(proto));
