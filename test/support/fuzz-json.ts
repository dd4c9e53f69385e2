import { docsBeacon } from './docs-beacon.ts';
import { int, pick, type Random, randomBytes } from './fuzz-cases.ts';

// Structure-aware JSON fuzzing: a random well-formed OTLP/JSON request or JSON beacon, then damaged
// where a decoder must not recurse, round or trust: unknown keys nested thousands deep (objects or
// arrays) anywhere, duplicate keys, numbers no double holds exactly (1e300, 2^53 + 1, 2^64, 1e400,
// -0), values of the wrong type, keys that name Object.prototype's own. Deep parts are spliced in
// as text: JSON.stringify could not write them.

const hex = (r: Random, bytes: number): string => randomBytes(r, bytes).toString('hex');
const text = (r: Random): string => pick(r, ['', 'x', 'GET /cart', 'héllo', '💥', 'k'.repeat(int(r, 300))]);
type Json = Record<string, unknown>;

function anyValue(r: Random, depth: number): Json {
  switch (int(r, depth > 2 ? 5 : 7)) {
    case 0:
      return { stringValue: text(r) };
    case 1:
      return { boolValue: r() < 0.5 };
    case 2:
      return { intValue: pick(r, ['-9223372036854775808', '42', 7, -1]) };
    case 3:
      return { doubleValue: pick(r, [0.5, -1, 'NaN', 'Infinity', 1e300]) };
    case 4:
      return { bytesValue: randomBytes(r, int(r, 20)).toString('base64') };
    case 5:
      return { arrayValue: { values: Array.from({ length: int(r, 3) }, () => anyValue(r, depth + 1)) } };
    default:
      return { kvlistValue: { values: attributes(r, depth + 1) } };
  }
}

const attributes = (r: Random, depth = 1): Json[] =>
  Array.from({ length: int(r, 4) }, () => ({ key: text(r), value: anyValue(r, depth) }));

function otlpSpan(r: Random): Json {
  const start = 1_764_000_000_000_000_000n + BigInt(int(r, 1e9));
  return {
    traceId: hex(r, 16),
    spanId: hex(r, 8),
    ...(r() < 0.7 ? { parentSpanId: hex(r, 8) } : {}),
    name: text(r),
    kind: pick(r, [0, 1, 2, 'SPAN_KIND_SERVER']),
    startTimeUnixNano: String(start),
    endTimeUnixNano: r() < 0.5 ? String(start + 1000n) : 1_764_000_000_000_001,
    attributes: attributes(r),
    events: r() < 0.3 ? [{ timeUnixNano: String(start), name: 'e', attributes: attributes(r) }] : [],
    links: r() < 0.2 ? [{ traceId: hex(r, 16), spanId: hex(r, 8) }] : [],
    status: { code: int(r, 3), message: text(r) },
  };
}

/** A well-formed OTLP/JSON request. */
export function otlpJsonTree(r: Random): Json {
  return {
    resourceSpans: Array.from({ length: 1 + int(r, 2) }, () => ({
      resource: { attributes: attributes(r) },
      scopeSpans: Array.from({ length: 1 + int(r, 2) }, () => ({
        scope: { name: 'lib', version: '1', attributes: attributes(r) },
        spans: Array.from({ length: 1 + int(r, 3) }, () => otlpSpan(r)),
      })),
      schemaUrl: 'https://r',
    })),
  };
}

const FIXTURE = docsBeacon() as unknown as Json;

/** The fixture beacon with fresh ids. */
export function beaconJsonTree(r: Random): Json {
  const beacon = structuredClone(FIXTURE);
  beacon.traceId = hex(r, 16);
  return beacon;
}

/** Every object in a tree (arrays are walked into). */
function objects(value: unknown, out: Json[] = []): Json[] {
  if (Array.isArray(value)) for (const item of value) objects(item, out);
  else if (value !== null && typeof value === 'object') {
    out.push(value as Json);
    for (const key of Object.keys(value)) objects((value as Json)[key], out);
  }
  return out;
}

const deep = (r: Random): string => {
  const depth = pick(r, [100, 1000, 4400, 10_000, 60_000]);
  return r() < 0.5
    ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
    : `${'['.repeat(depth)}${']'.repeat(depth)}`;
};

/** Numbers a double cannot hold exactly, or that are not what they look like: as JSON text. */
const NUMBERS = [
  '1e300',
  '-1e300',
  '1e400',
  '-0',
  '9007199254740993',
  '18446744073709551616',
  '1.5',
  '-1',
  '0.1e-400',
];
const WEIRD = ['null', 'true', '[]', '{}', '"x"', '""', '[[[1]]]', '"1e300"', '"-1"', '"0x10"', '" 5"'];
/** Fields that hold numbers (or 64-bit integers as strings), in OTLP/JSON and in beacons. */
const NUMERIC = new Set(
  'intValue doubleValue startTimeUnixNano endTimeUnixNano timeUnixNano kind code flags droppedAttributesCount ts start dur t v'.split(
    ' ',
  ),
);
const KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];

const KINDS = [
  'deep unknown key',
  'duplicate key',
  'huge number',
  'wrong type',
  'prototype key',
  'deep value',
] as const;

/** Damages a (copied) JSON tree once or twice; returns the body text and what was done. */
export function damageJson(r: Random, tree: Json): { body: Buffer; kind: string } {
  const copy = structuredClone(tree);
  const targets = objects(copy);
  const splices: [string, string][] = [];
  const kinds: string[] = [];
  for (let round = 0; round < 1 + int(r, 2); round++) {
    const kind = pick(r, KINDS);
    kinds.push(kind);
    const target = pick(r, targets);
    const known = Object.keys(target);
    const key = known.length > 0 ? pick(r, known) : 'name';
    // A placeholder value, replaced in the text by what JSON.stringify cannot (or would not) write.
    const marker = `@@fuzz${splices.length}@@`;
    switch (kind) {
      case 'deep unknown key':
        target[`unknown${int(r, 3)}`] = marker;
        splices.push([marker, deep(r)]);
        break;
      case 'duplicate key':
        // The same key twice in one object: JSON.parse keeps the last, but a decoder must not care.
        target[`dup${round}`] = marker;
        splices.push([
          `"dup${round}":"${marker}"`,
          `"${key}":${pick(r, WEIRD)},"${key}":${JSON.stringify(target[key] ?? 1)}`,
        ]);
        break;
      case 'huge number': {
        const numeric = known.filter((k) => NUMERIC.has(k));
        target[numeric.length > 0 ? pick(r, numeric) : key] = marker;
        splices.push([marker, pick(r, NUMBERS)]);
        break;
      }
      case 'wrong type':
        target[key] = marker;
        splices.push([marker, pick(r, WEIRD)]);
        break;
      case 'prototype key':
        target[`proto${round}`] = marker;
        splices.push([`"proto${round}":"${marker}"`, `"${pick(r, KEYS)}":${pick(r, WEIRD)}`]);
        break;
      default: {
        let value = '{"stringValue":"bottom"}';
        for (let i = 0; i < 30 + int(r, 20); i++) value = `{"arrayValue":{"values":[${value}]}}`;
        target[key] = marker;
        splices.push([marker, value]);
      }
    }
  }
  let body = JSON.stringify(copy);
  // A marker stands alone as a JSON string, or (for whole key-value pairs) with its key.
  for (const [marker, replacement] of splices) {
    body = marker.startsWith('"')
      ? body.replace(marker, replacement)
      : body.replace(`"${marker}"`, replacement);
  }
  return { body: Buffer.from(body), kind: kinds.join(' + ') };
}
