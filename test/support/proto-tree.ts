// Protobuf written by hand, field by field, so that tests and the fuzzer can say things a schema-driven
// encoder never would: a length that lies, a wire type the schema does not allow, a varint padded to
// ten bytes, a field repeated as a packed run.

export const VARINT = 0;
export const FIXED64 = 1;
export const LEN = 2;
export const START_GROUP = 3;
export const END_GROUP = 4;
export const FIXED32 = 5;

export type ProtoField =
  | { n: number; wire: 0; value: bigint; pad?: number }
  | { n: number; wire: 1; value: bigint }
  | { n: number; wire: 5; value: number }
  | { n: number; wire: 3 | 4 }
  /** `lie` is added to the length written before the payload (which is written as it is). */
  | { n: number; wire: 2; value: Uint8Array | ProtoField[]; lie?: number }
  /** Any other wire type (6, 7 are invalid), with raw bytes after the tag. */
  | { n: number; wire: 6 | 7; raw: Uint8Array };

/** A varint of `value` (two's complement for negatives, as protobuf's int64), at least `minBytes` long. */
export function varint(value: bigint, minBytes = 1): Buffer {
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  do {
    out.push(Number(v & 0x7fn));
    v >>= 7n;
  } while (v > 0n);
  while (out.length < minBytes) out.push(0);
  for (let i = 0; i < out.length - 1; i++) out[i] = (out[i] as number) | 0x80;
  return Buffer.from(out);
}

const tag = (n: number, wire: number): Buffer => varint(BigInt((n << 3) | wire));

export function encode(fields: readonly ProtoField[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of fields) {
    parts.push(tag(f.n, f.wire));
    switch (f.wire) {
      case 0:
        parts.push(varint(f.value, f.pad));
        break;
      case 1: {
        const b = Buffer.alloc(8);
        b.writeBigUInt64LE(BigInt.asUintN(64, f.value));
        parts.push(b);
        break;
      }
      case 5: {
        const b = Buffer.alloc(4);
        b.writeUInt32LE(f.value >>> 0);
        parts.push(b);
        break;
      }
      case 2: {
        const payload = f.value instanceof Uint8Array ? Buffer.from(f.value) : encode(f.value);
        parts.push(varint(BigInt(Math.max(0, payload.length + (f.lie ?? 0)))), payload);
        break;
      }
      case 6:
      case 7:
        parts.push(Buffer.from(f.raw));
        break;
      default:
        break;
    }
  }
  return Buffer.concat(parts);
}

export const bytesField = (n: number, value: Uint8Array | string, lie?: number): ProtoField => ({
  n,
  wire: 2,
  value: typeof value === 'string' ? Buffer.from(value) : value,
  lie,
});
export const message = (n: number, value: ProtoField[], lie?: number): ProtoField => ({
  n,
  wire: 2,
  value,
  lie,
});
export const hexField = (n: number, hex: string): ProtoField => bytesField(n, Buffer.from(hex, 'hex'));

/** An OTLP ExportTraceServiceRequest of one resource and one scope holding `spans` (each a Span's fields). */
export function otlpRequest(spans: ProtoField[][], scopeTail: ProtoField[] = []): Buffer {
  return encode([message(1, [message(2, [...spans.map((span) => message(2, span)), ...scopeTail])])]);
}

/** A Span's fields: ids and a name. */
export const otlpSpan = (traceId: string, spanId: string, name: string): ProtoField[] => [
  hexField(1, traceId),
  hexField(2, spanId),
  bytesField(5, name),
];
