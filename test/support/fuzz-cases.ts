import { gzipSync } from 'node:zlib';
import { loadProto } from '../../src/model/proto-files.ts';
import { docsBeaconText } from './docs-beacon.ts';
import { type Random, seeded } from './random.ts';

export { type Random, seeded };

// Generators of hostile request bodies for the fuzz test: random and mutated beacons (JSON and
// protobuf), truncated gzip, deep JSON, huge attribute values, bad UTF-8. Seeded, so a failure names
// a case that can be replayed.

export interface FuzzCase {
  kind: string;
  body: Buffer;
  headers: Record<string, string>;
}

export const int = (r: Random, n: number): number => Math.floor(r() * n);
export const pick = <T>(r: Random, items: readonly T[]): T => items[int(r, items.length)] as T;

const FIXTURE_TEXT = docsBeaconText();
const FIXTURE = JSON.parse(FIXTURE_TEXT) as Record<string, unknown>;
const BeaconMessage = loadProto('beacon.proto').lookupType('edgerelay.beacon.v1.Beacon');

const JSON_TYPE = { 'content-type': 'application/json' };
const PROTO_TYPE = { 'content-type': 'application/x-protobuf' };

const WEIRD_VALUES: unknown[] = [
  null,
  true,
  -1,
  0,
  1e308,
  -1e308,
  2 ** 53 + 1,
  '',
  'x'.repeat(5000),
  '\u0000',
  '\ud800',
  '💥'.repeat(100),
  [],
  {},
  [[[[[]]]]],
  { __proto__: { polluted: true } },
  { constructor: { prototype: { polluted: true } } },
  'ffffffffffffffffffffffffffffffff',
  '00000000000000000000000000000000',
  'ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ',
];

export function randomBytes(r: Random, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = int(r, 256);
  return out;
}

/** Byte-level damage: flips, deletions, insertions, duplicated runs, truncation. */
export function mutateBytes(r: Random, input: Buffer): Buffer {
  let bytes = Buffer.from(input);
  const rounds = 1 + int(r, 6);
  for (let i = 0; i < rounds; i++) {
    const at = int(r, Math.max(1, bytes.length));
    switch (int(r, 5)) {
      case 0:
        if (bytes.length > 0) bytes[at] = int(r, 256);
        break;
      case 1:
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + int(r, 16))]);
        break;
      case 2:
        bytes = Buffer.concat([bytes.subarray(0, at), randomBytes(r, 1 + int(r, 16)), bytes.subarray(at)]);
        break;
      case 3:
        bytes = Buffer.concat([
          bytes.subarray(0, at),
          bytes.subarray(at, at + int(r, 64)),
          bytes.subarray(at),
        ]);
        break;
      default:
        bytes = bytes.subarray(0, at);
    }
  }
  return bytes;
}

/** Replaces, removes or adds a field somewhere in a copy of the fixture beacon. */
function mutateStructure(r: Random): unknown {
  const beacon = structuredClone(FIXTURE) as Record<string, unknown>;
  const spans = beacon.spans as Record<string, unknown>[];
  const targets: Record<string, unknown>[] = [
    beacon,
    beacon.worker as Record<string, unknown>,
    beacon.edge as Record<string, unknown>,
    spans[int(r, spans.length)] as Record<string, unknown>,
  ];
  const rounds = 1 + int(r, 4);
  for (let i = 0; i < rounds; i++) {
    const target = pick(r, targets);
    const keys = Object.keys(target);
    const key = r() < 0.8 && keys.length > 0 ? pick(r, keys) : `extra${int(r, 5)}`;
    if (r() < 0.2) delete target[key];
    else target[key] = pick(r, WEIRD_VALUES);
  }
  if (r() < 0.1) beacon.spans = Array.from({ length: 257 + int(r, 100) }, () => spans[0]);
  return r() < 0.05 ? pick(r, WEIRD_VALUES) : beacon;
}

function deepJson(r: Random): string {
  const depth = 100 + int(r, 100_000);
  const open = r() < 0.5 ? '[' : '{"a":';
  const close = open === '[' ? ']' : '}';
  const inner = `${open.repeat(depth)}1${close.repeat(r() < 0.5 ? depth : int(r, depth))}`;
  return r() < 0.5
    ? inner
    : `{"v":1,"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","ts":1,"worker":${inner},"spans":[]}`;
}

function hugeAttributes(r: Random): string {
  const beacon = structuredClone(FIXTURE) as {
    spans: { attrs?: Record<string, unknown> }[];
    resource?: unknown;
  };
  const size = pick(r, [4096, 4097, 65_536, 900_000]);
  const span = beacon.spans[0] as { attrs?: Record<string, unknown> };
  if (r() < 0.5) span.attrs = { big: 'v'.repeat(size) };
  else
    span.attrs = Object.fromEntries(Array.from({ length: pick(r, [64, 65, 5000]) }, (_, i) => [`k${i}`, i]));
  if (r() < 0.3) beacon.resource = { ['k'.repeat(pick(r, [256, 257, 100_000]))]: 'x' };
  return JSON.stringify(beacon);
}

const BAD_UTF8 = [
  [0xc3],
  [0xc3, 0x28],
  [0xe2, 0x82],
  [0xed, 0xa0, 0x80],
  [0xf0, 0x9f, 0x98],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0xaf],
];

function badUtf8(r: Random): Buffer {
  const text = Buffer.from(FIXTURE_TEXT);
  // Inside a string value (a span name), so the JSON stays well-formed around it.
  const at = text.indexOf('GET /product') + 4;
  return Buffer.concat([text.subarray(0, at), Buffer.from(pick(r, BAD_UTF8)), text.subarray(at)]);
}

/** A valid protobuf beacon, with the fixture's content. */
export function protoBeacon(): Buffer {
  const spans = (FIXTURE.spans as Record<string, unknown>[]).map((s) => ({
    id: Buffer.from(s.id as string, 'hex'),
    parent: s.parent ? Buffer.from(s.parent as string, 'hex') : undefined,
    name: s.name,
    start: s.start,
    dur: s.dur,
    attrs: Object.entries((s.attrs ?? {}) as Record<string, unknown>).map(([key, value]) =>
      typeof value === 'number' ? { key, numberValue: value } : { key, stringValue: String(value) },
    ),
  }));
  const message = BeaconMessage.fromObject({
    v: 1,
    traceId: Buffer.from(FIXTURE.traceId as string, 'hex'),
    ts: FIXTURE.ts,
    worker: FIXTURE.worker,
    spans,
  });
  return Buffer.from(BeaconMessage.encode(message).finish());
}

const PROTO = protoBeacon();

/** Small bodies that expand far past the body limit. */
const GZIP_BOMBS = [2, 8, 32].map((mib) => gzipSync(Buffer.alloc(mib * 1024 * 1024, 0x20)));

function gzipCase(r: Random): FuzzCase {
  const plain = r() < 0.5 ? Buffer.from(FIXTURE_TEXT) : randomBytes(r, int(r, 2000));
  const zipped = gzipSync(plain);
  const choice = int(r, 4);
  const body =
    choice === 0
      ? zipped.subarray(0, int(r, zipped.length)) // truncated
      : choice === 1
        ? mutateBytes(r, zipped)
        : choice === 2
          ? pick(r, GZIP_BOMBS)
          : randomBytes(r, int(r, 200));
  return {
    kind: 'gzip',
    body,
    headers: {
      ...JSON_TYPE,
      'content-encoding': r() < 0.8 ? 'gzip' : pick(r, ['GZIP', 'br', 'deflate', 'gzip, gzip']),
    },
  };
}

const CONTENT_TYPES = [
  'text/plain',
  '',
  'application/json; charset=latin1',
  'application/x-protobuf',
  'multipart/form-data',
  'application/JSON',
  'application/jsonx',
];

/** The case generators and how many of each the fuzz test runs (10,000 in all). */
export const BEACON_CASES: readonly [number, (r: Random) => FuzzCase][] = [
  [
    2500,
    (r) => ({
      kind: 'mutated json bytes',
      body: mutateBytes(r, Buffer.from(FIXTURE_TEXT)),
      headers: JSON_TYPE,
    }),
  ],
  [
    2000,
    (r) => ({
      kind: 'mutated json structure',
      body: Buffer.from(JSON.stringify(mutateStructure(r)) ?? ''),
      headers: JSON_TYPE,
    }),
  ],
  [1500, (r) => ({ kind: 'mutated protobuf', body: mutateBytes(r, PROTO), headers: PROTO_TYPE })],
  [500, (r) => ({ kind: 'random protobuf', body: randomBytes(r, int(r, 512)), headers: PROTO_TYPE })],
  [1000, (r) => gzipCase(r)],
  [300, (r) => ({ kind: 'deep json', body: Buffer.from(deepJson(r)), headers: JSON_TYPE })],
  [400, (r) => ({ kind: 'huge attributes', body: Buffer.from(hugeAttributes(r)), headers: JSON_TYPE })],
  [1000, (r) => ({ kind: 'bad utf-8', body: badUtf8(r), headers: JSON_TYPE })],
  [
    800,
    (r) => ({
      kind: 'odd content-type',
      body: r() < 0.5 ? Buffer.from(FIXTURE_TEXT) : randomBytes(r, int(r, 300)),
      headers: { 'content-type': pick(r, CONTENT_TYPES) },
    }),
  ],
];
