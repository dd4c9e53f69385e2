import { int, pick, type Random, randomBytes } from './fuzz-cases.ts';
import { bytesField, encode, hexField, message, type ProtoField, varint } from './proto-tree.ts';

// Structure-aware protobuf fuzzing: a random but well-formed OTLP ExportTraceServiceRequest or
// edge beacon is built as a tree of fields, then damaged where a decoder must keep its bounds: a
// length that lies (past its message but inside the body, or short), an overrun nested inside a
// message that is itself fine, a known field with another wire type, varints padded to ten bytes
// (valid) or eleven (not), a repeated message sent as a packed run, unknown fields of every wire
// type (groups, invalid 6 and 7), duplicated singular fields, values nested past the depth limit.

const hex = (r: Random, bytes: number): string => randomBytes(r, bytes).toString('hex');
const text = (r: Random): string =>
  pick(r, ['', 'x', 'GET /cart', 'héllo', '💥', 'k'.repeat(int(r, 300)), '\u0000', 'service.name']);
const varintField = (n: number, value: bigint | number): ProtoField => ({ n, wire: 0, value: BigInt(value) });
const fixed64 = (n: number, value: bigint): ProtoField => ({ n, wire: 1, value });
const bits64 = (r: Random): bigint => BigInt.asUintN(64, BigInt(`0x${hex(r, 8)}`));
const doubleBits = (value: number): bigint =>
  new BigUint64Array(new Float64Array([value]).buffer)[0] as bigint;
const repeat = <T>(r: Random, max: number, make: () => T): T[] =>
  Array.from({ length: int(r, max + 1) }, make);
const INT64S = [0n, 1n, -1n, 2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n, 42n];

// --- OTLP (opentelemetry-proto field numbers) ---

function anyValue(r: Random, depth: number): ProtoField[] {
  switch (int(r, depth > 2 ? 5 : 7)) {
    case 0:
      return [bytesField(1, text(r))];
    case 1:
      return [varintField(2, int(r, 2))];
    case 2:
      return [varintField(3, pick(r, INT64S))];
    case 3:
      return [fixed64(4, bits64(r))];
    case 4:
      return [bytesField(7, randomBytes(r, int(r, 20)))];
    case 5:
      return [
        message(
          5,
          repeat(r, 3, () => message(1, anyValue(r, depth + 1))),
        ),
      ];
    default:
      return [
        message(
          6,
          repeat(r, 3, () => message(1, keyValue(r, depth + 1))),
        ),
      ];
  }
}

const keyValue = (r: Random, depth = 1): ProtoField[] => [
  bytesField(1, text(r)),
  message(2, anyValue(r, depth)),
];
const attributes = (r: Random, n: number): ProtoField[] => repeat(r, 3, () => message(n, keyValue(r)));

function otlpSpanFields(r: Random, traceId: string): ProtoField[] {
  const start = 1_764_000_000_000_000_000n + BigInt(int(r, 1e9));
  return [
    hexField(1, traceId),
    hexField(2, hex(r, 8)),
    ...(r() < 0.3 ? [bytesField(3, 'vendor=1')] : []),
    ...(r() < 0.7 ? [hexField(4, hex(r, 8))] : []),
    bytesField(5, text(r)),
    varintField(6, int(r, 6)),
    fixed64(7, start),
    fixed64(8, start + BigInt(int(r, 1e9))),
    ...attributes(r, 9),
    varintField(10, int(r, 3)),
    ...repeat(r, 2, () => message(11, [fixed64(1, start), bytesField(2, text(r)), ...attributes(r, 3)])),
    ...repeat(r, 2, () =>
      message(13, [hexField(1, hex(r, 16)), hexField(2, hex(r, 8)), ...attributes(r, 4)]),
    ),
    message(15, [bytesField(2, text(r)), varintField(3, int(r, 3))]),
    { n: 16, wire: 5, value: pick(r, [0, 1, 0x301]) },
  ];
}

const described = (r: Random, attributesField: number): ProtoField[] =>
  attributesField === 1
    ? attributes(r, 1)
    : [bytesField(1, text(r)), bytesField(2, '1.0'), ...attributes(r, 3)];

/** A well-formed OTLP request: 1–2 resources, 1–2 scopes each, 1–3 spans each. */
export function otlpTree(r: Random): ProtoField[] {
  return Array.from({ length: 1 + int(r, 2) }, () =>
    message(1, [
      message(1, described(r, 1)),
      ...Array.from({ length: 1 + int(r, 2) }, () =>
        message(2, [
          message(1, described(r, 3)),
          ...Array.from({ length: 1 + int(r, 3) }, () => message(2, otlpSpanFields(r, hex(r, 16)))),
          ...(r() < 0.5 ? [bytesField(3, 'https://s')] : []),
        ]),
      ),
      ...(r() < 0.5 ? [bytesField(3, 'https://r')] : []),
    ]),
  );
}

// --- edge beacon (proto/beacon.proto) ---

function beaconAttribute(r: Random): ProtoField[] {
  const key = bytesField(1, pick(r, ['k', 'http.route', '__proto__', 'constructor', text(r)]));
  switch (int(r, 4)) {
    case 0:
      return [key, bytesField(2, text(r))];
    case 1:
      return [key, fixed64(3, doubleBits(pick(r, [0, 1.5, -1, 1e300, Number.NaN])))];
    case 2:
      return [key, varintField(4, 1)];
    default:
      return [
        key,
        message(
          5,
          repeat(r, 3, () => message(1, [bytesField(1, text(r))])),
        ),
      ];
  }
}

/** A well-formed beacon of 1–6 spans. */
export function beaconTree(r: Random): ProtoField[] {
  const spanId = hex(r, 8);
  return [
    varintField(1, 1),
    hexField(2, hex(r, 16)),
    fixed64(5, doubleBits(1_764_070_000_123.25)),
    message(6, [bytesField(1, '42817'), bytesField(2, '1.4.2')]),
    ...(r() < 0.5 ? [message(7, [bytesField(1, '203.0.113.7'), bytesField(2, 'FRA')])] : []),
    ...repeat(r, 2, () => message(9, beaconAttribute(r))),
    ...Array.from({ length: 1 + int(r, 6) }, (_, i) =>
      message(10, [
        hexField(1, i === 0 ? spanId : hex(r, 8)),
        ...(i > 0 ? [hexField(2, spanId)] : []),
        bytesField(3, text(r) || 'span'),
        varintField(4, int(r, 5)),
        fixed64(5, doubleBits(i)),
        fixed64(6, doubleBits(1.25)),
        ...repeat(r, 3, () => message(9, beaconAttribute(r))),
        ...repeat(r, 1, () => message(10, [bytesField(1, 'e'), fixed64(2, doubleBits(0.5))])),
      ]),
    ),
  ];
}

// --- damage ---

interface Site {
  list: ProtoField[];
  index: number;
  depth: number;
}

/** Every field of the tree, with the list it sits in (message payloads are walked into). */
function sites(fields: ProtoField[], depth = 0, out: Site[] = []): Site[] {
  for (let index = 0; index < fields.length; index++) {
    out.push({ list: fields, index, depth });
    const f = fields[index] as ProtoField;
    if (f.wire === 2 && Array.isArray(f.value)) sites(f.value, depth + 1, out);
  }
  return out;
}

const encodedLength = (fields: ProtoField[]): number => encode(fields).length;

/** Another field in the place of `f`: same number, another wire type. */
function otherWire(r: Random, f: ProtoField): ProtoField {
  const choices: ProtoField[] = [
    varintField(f.n, 5),
    fixed64(f.n, 1n),
    { n: f.n, wire: 5, value: 7 },
    bytesField(f.n, 'abc'),
    { n: f.n, wire: 3 },
  ];
  return pick(
    r,
    choices.filter((c) => c.wire !== f.wire),
  );
}

function unknownField(r: Random): ProtoField[] {
  const n = pick(r, [17, 50, 1000, 2 ** 29 - 1]);
  switch (int(r, 6)) {
    case 0:
      return [varintField(n, pick(r, INT64S))];
    case 1:
      return [bytesField(n, randomBytes(r, int(r, 40)))];
    case 2:
      return [{ n, wire: 3 }, varintField(1, 1), { n, wire: 4 }];
    case 3:
      // A group that never ends, or ends with another number.
      return r() < 0.5
        ? [{ n, wire: 3 }]
        : [
            { n, wire: 3 },
            { n: n + 1, wire: 4 },
          ];
    case 4:
      return [{ n, wire: pick(r, [6, 7] as const), raw: randomBytes(r, int(r, 8)) }];
    default:
      return [{ n, wire: 5, value: int(r, 1e9) }];
  }
}

const KINDS = [
  'lying length',
  'nested overrun',
  'huge length',
  'wrong wire type',
  '10-byte varint',
  '11-byte varint',
  'packed run',
  'unknown field',
  'duplicate field',
  'deep value',
  'truncated',
] as const;

/** Damages one or two places of a (copied) tree; returns the body and what was done. */
export function damage(r: Random, tree: ProtoField[]): { body: Buffer; kind: string } {
  const fields = structuredClone(tree);
  const all = sites(fields);
  const kinds: string[] = [];
  for (let round = 0; round < 1 + int(r, 2); round++) {
    const kind = pick(r, KINDS);
    kinds.push(kind);
    const site = pick(r, all);
    const f = site.list[site.index] as ProtoField;
    const lengthed = all.filter((s) => (s.list[s.index] as ProtoField).wire === 2);
    const lie = (at: Site, by: number): void => {
      const field = at.list[at.index] as ProtoField;
      if (field.wire === 2) field.lie = by;
    };
    switch (kind) {
      case 'lying length': {
        // Past its end by exactly the bytes that follow it in its message (so the message's end is
        // met and the body goes on), or by a few, or short of its payload.
        const at = pick(r, lengthed);
        lie(at, pick(r, [encodedLength(at.list.slice(at.index + 1)), 1 + int(r, 8), -(1 + int(r, 4))]));
        break;
      }
      case 'nested overrun': {
        // A field deep in a span or a value overruns its message by a byte or two.
        const deep = lengthed.filter((s) => s.depth >= 4);
        lie(pick(r, deep.length > 0 ? deep : lengthed), 1 + int(r, 2));
        break;
      }
      case 'huge length':
        lie(pick(r, lengthed), pick(r, [2 ** 31, 2 ** 32 - 20, 2 ** 28]));
        break;
      case 'wrong wire type':
        site.list[site.index] = otherWire(r, f);
        break;
      case '10-byte varint':
      case '11-byte varint': {
        const pad = kind === '10-byte varint' ? 10 : 11;
        const varints = all.filter((s) => (s.list[s.index] as ProtoField).wire === 0);
        const at = pick(r, varints.length > 0 ? varints : [site]);
        const v = at.list[at.index] as ProtoField;
        if (v.wire === 0) v.pad = pad;
        else at.list.splice(at.index, 0, { n: v.n, wire: 0, value: -1n, pad });
        break;
      }
      case 'packed run':
        // A repeated message (or a scalar) sent as a run of varints, as packed repeated scalars are.
        site.list[site.index] = bytesField(
          f.n,
          Buffer.concat(Array.from({ length: 1 + int(r, 5) }, () => varint(BigInt(int(r, 300))))),
        );
        break;
      case 'unknown field':
        site.list.splice(site.index, 0, ...unknownField(r));
        break;
      case 'duplicate field':
        site.list.splice(site.index, 0, structuredClone(f));
        break;
      case 'deep value': {
        let value: ProtoField[] = [bytesField(1, 'bottom')];
        for (let i = 0; i < 30 + int(r, 20); i++) value = [message(5, [message(1, value)])];
        site.list.splice(site.index, 0, message(f.n, [bytesField(1, 'deep'), message(2, value)]));
        break;
      }
      default:
        break;
    }
  }
  const body = encode(fields);
  return {
    body: kinds.includes('truncated') ? body.subarray(0, int(r, body.length)) : body,
    kind: kinds.join(' + '),
  };
}
