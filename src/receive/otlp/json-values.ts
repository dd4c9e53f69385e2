// The scalar fields of OTLP/JSON (the proto3 JSON mapping with OTLP's exceptions), each read
// exactly or refused with a WrongType naming the key: 64-bit integers are decimal strings or safe
// JSON numbers, enums integers or names, bytes base64, ids hex.

export type Json = Record<string, unknown>;

/** A value of the wrong type; `where` grows as the error travels up to the request. */
export class WrongType extends Error {
  where: string;
  constructor(where: string, problem: string) {
    super(problem);
    this.where = where;
  }
}

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;

export const wrong = (key: string, expected: string, value: unknown): WrongType =>
  new WrongType(key, `expected ${expected}, got ${describe(value)}`);

/** The value under the lowerCamelCase key or, failing that, the proto field name. */
export function field(obj: Json, camel: string, snake?: string): unknown {
  const value = obj[camel];
  return value === undefined && snake !== undefined ? obj[snake] : value;
}

export function object(value: unknown, key: string): Json | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw wrong(key, 'an object', value);
  return value as Json;
}

export function list(value: unknown, key: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw wrong(key, 'an array', value);
  return value;
}

export function string(obj: Json, camel: string, snake?: string): string {
  const value = field(obj, camel, snake);
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw wrong(camel, 'a string', value);
  return value;
}

const INTEGER = /^-?\d+$/;

export function uint32(obj: Json, camel: string, snake?: string): number {
  const value = field(obj, camel, snake);
  if (value === undefined || value === null) return 0;
  const n = typeof value === 'string' && INTEGER.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff)
    throw wrong(camel, 'an unsigned 32-bit integer', value);
  return n;
}

/**
 * A JSON number is a double: beyond 2^53 it no longer says which integer was sent (1e300, or a
 * nanosecond time rounded by the sender's JSON encoder), so only safe integers are taken as numbers.
 */
const inexact = (key: string, value: number): WrongType =>
  new WrongType(
    key,
    `${value} cannot be represented exactly as a JSON number; send 64-bit integers as decimal strings`,
  );

/** A 64-bit integer as JSON number or decimal string: a number when safe, else an exact bigint. */
export function int64(value: unknown, key: string): number | bigint {
  if (typeof value === 'number' && Number.isInteger(value)) {
    if (!Number.isSafeInteger(value)) throw inexact(key, value);
    return value;
  }
  if (typeof value === 'string' && INTEGER.test(value)) {
    const big = BigInt.asIntN(64, BigInt(value));
    if (big !== BigInt(value)) throw new WrongType(key, `${value} is out of the 64-bit range`);
    return Number.isSafeInteger(Number(big)) && BigInt(Number(big)) === big ? Number(big) : big;
  }
  throw wrong(key, 'a 64-bit integer (number or decimal string)', value);
}

const MAX_UINT64 = 2n ** 64n - 1n;
const UNSIGNED = /^\d+$/;

/** A fixed64 time in nanoseconds, exact: JSON numbers beyond 2^53 are already rounded, so strings are usual. */
export function nanos(obj: Json, camel: string, snake: string): bigint {
  const value = field(obj, camel, snake);
  if (value === undefined || value === null) return 0n;
  if (typeof value === 'string' && UNSIGNED.test(value)) {
    const n = BigInt(value);
    if (n <= MAX_UINT64) return n;
  } else if (typeof value === 'number' && Number.isInteger(value) && value >= 0) {
    if (!Number.isSafeInteger(value)) throw inexact(camel, value);
    return BigInt(value);
  }
  throw wrong(camel, 'an unsigned 64-bit integer (number or decimal string)', value);
}

export function double(value: unknown, key: string): number {
  // JSON.parse makes Infinity of a literal too large for a double; "Infinity" (a string) is the way to send it.
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new WrongType(key, 'the number is out of the range of a double');
    return value;
  }
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  if (value === 'NaN') return Number.NaN;
  throw wrong(key, 'a number', value);
}

export function enumValue(obj: Json, key: string, names: readonly string[]): number {
  const value = obj[key];
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_ENUM) return value;
  if (typeof value === 'string' && names.includes(value)) return names.indexOf(value);
  throw wrong(key, `an integer or one of ${names.join(', ')}`, value);
}

/** Protobuf enums are int32. */
const MAX_ENUM = 0x7fffffff;

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

export function bytes(value: unknown, key: string): Uint8Array {
  if (typeof value !== 'string' || !BASE64.test(value)) throw wrong(key, 'base64 bytes', value);
  return Uint8Array.from(Buffer.from(value, 'base64'));
}

/** Ids are hex in OTLP/JSON; the span check rejects anything that is not 16 or 8 bytes of it. */
export const hexId = (obj: Json, camel: string, snake: string): string =>
  string(obj, camel, snake).toLowerCase();
