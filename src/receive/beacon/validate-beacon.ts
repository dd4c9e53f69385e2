import { isIP } from 'node:net';
import { fieldPath } from '../../lib/dotted-path.ts';
import { invalid, type RequestError } from '../../lib/errors.ts';
import type { Beacon } from '../../model/beacon.ts';

// Hand-written from proto/beacon.schema.json, because validation was the largest cost on the acking thread
// after parsing: ajv compiled from the schema took about 6 µs per beacon there (paired rounds with it stubbed
// out, issue 19). This walk takes 0.6–0.85 of ajv's time (bench "Beacon validation": 1.17× ajv's rate in a
// full run's harness, 1.4–1.6× alone, over the bench's mixed beacon shapes), and allocates nothing for a
// valid beacon. The schema stays the reference: validate-beacon.test.ts checks this walk against ajv compiled
// from it on seeded random beacons, verdict and message. The checks run in ajv's order (required fields,
// unknown keys, then each field in the schema's order), so a beacon with several problems is told the same
// first one.

/**
 * A problem found by the walk: the path below the value it was found in, built only on the way out, and for an
 * unknown or missing field its name, which is joined with a dot even where it looks like an index (as config
 * errors name keys).
 */
class Problem {
  readonly path: (string | number)[];
  readonly words: string;
  readonly key: string | undefined;
  constructor(path: (string | number)[], words: string, key?: string) {
    this.path = path;
    this.words = words;
    this.key = key;
  }
  under(segment: string | number): Problem {
    this.path.unshift(segment);
    return this;
  }
  toString(): string {
    const path = fieldPath(this.path);
    const field = this.key === undefined ? path : path ? `${path}.${this.key}` : this.key;
    return `${field || 'beacon'}: ${this.words}`;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** JSON Schema counts characters as code points: a surrogate pair is one. */
function codePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    count++;
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
  }
  return count;
}

function lengthProblem(text: string, min: number, max: number): string | undefined {
  if (text.length > max && codePoints(text) > max) return `must NOT have more than ${max} characters`;
  if (text.length < min) return `must NOT have fewer than ${min} characters`;
  return undefined;
}

function text(value: unknown, min: number, max: number): string | undefined {
  return typeof value === 'string' ? lengthProblem(value, min, max) : 'must be string';
}

/** A hex string of `min` to `max` digits, worded as the schema's `pattern` is. */
function hex(value: unknown, min: number, max: number, pattern: string): string | undefined {
  if (typeof value !== 'string') return 'must be string';
  return value.length >= min && value.length <= max && lowerHex(value)
    ? undefined
    : `must match pattern "${pattern}"`;
}

// A table lookup per character, not /^[0-9a-f]+$/: the regex was 2.2–2.8% of the acking thread's busy
// time in profiles of the bench's saturation runs. Alone, on the bench's 16- and 32-digit ids (one core,
// median of 10 rounds), the regex takes 184–190 ns per id, a comparison loop 197–213 ns, this 77–98 ns.
const LOWER_HEX = new Uint8Array(128);
for (const digit of '0123456789abcdef') LOWER_HEX[digit.charCodeAt(0)] = 1;

function lowerHex(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128 || LOWER_HEX[c] === 0) return false;
  }
  return true;
}

function number(value: unknown, min: number, max: number): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be number';
  return value > max ? `must be <= ${max}` : value < min ? `must be >= ${min}` : undefined;
}

function integer(value: unknown, min: number, max: number): string | undefined {
  if (!Number.isInteger(value)) return 'must be integer';
  return number(value, min, max);
}

const offset = (value: unknown): string | undefined => number(value, 0, 86_400_000);

function oneOf(value: unknown, allowed: readonly string[]): string | undefined {
  return allowed.includes(value as string)
    ? undefined
    : `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
}

function scalarProblem(value: unknown): string | undefined {
  if (typeof value === 'string') return lengthProblem(value, 0, 4096);
  return typeof value === 'boolean' || Number.isFinite(value) ? undefined : 'must be string,number,boolean';
}

/** An attribute value is a scalar or an array of at most 64; failing both, the scalar's problem is told. */
function attributeValueProblem(value: unknown): string | undefined {
  const problem = scalarProblem(value);
  if (problem === undefined || !Array.isArray(value) || value.length > 64) return problem;
  for (const item of value) if (scalarProblem(item) !== undefined) return problem;
  return undefined;
}

function attributes(value: unknown): Problem | string | undefined {
  if (!isObject(value)) return 'must be object';
  let count = 0;
  let badName: string | undefined;
  for (const name in value) {
    count++;
    badName ??= lengthProblem(name, 1, 256);
  }
  if (count > 64) return 'must NOT have more than 64 properties';
  if (badName !== undefined) return badName;
  for (const name in value) {
    const problem = attributeValueProblem(value[name]);
    if (problem !== undefined) return new Problem([name], problem);
  }
  return undefined;
}

/** A field's problem, placed under the field. */
function under(name: string | number, problem: Problem | string | undefined): Problem | undefined {
  if (problem === undefined) return undefined;
  return typeof problem === 'string' ? new Problem([name], problem) : problem.under(name);
}

/** The first required field missing, then the first unknown one, as ajv checks them before the fields. */
function shapeProblem(
  value: Record<string, unknown>,
  required: readonly string[],
  known: ReadonlySet<string>,
) {
  for (const name of required)
    if (value[name] === undefined) return new Problem([], 'required field is missing', name);
  for (const name in value) if (!known.has(name)) return new Problem([], 'unknown field', name);
  return undefined;
}

const EVENT_REQUIRED = ['name', 't'];
const EVENT_FIELDS = new Set(['name', 't', 'attrs']);

function event(value: unknown): Problem | string | undefined {
  if (!isObject(value)) return 'must be object';
  const { name, t, attrs } = value;
  return (
    shapeProblem(value, EVENT_REQUIRED, EVENT_FIELDS) ??
    under('name', name === undefined ? undefined : text(name, 1, 256)) ??
    under('t', t === undefined ? undefined : offset(t)) ??
    under('attrs', attrs === undefined ? undefined : attributes(attrs))
  );
}

function events(value: unknown): Problem | string | undefined {
  if (!Array.isArray(value)) return 'must be array';
  if (value.length > 32) return 'must NOT have more than 32 items';
  for (let i = 0; i < value.length; i++) {
    const problem = under(i, event(value[i]));
    if (problem !== undefined) return problem;
  }
  return undefined;
}

const SPAN_ID = '^[0-9a-f]{16}$';
const KINDS = ['internal', 'server', 'client', 'producer', 'consumer'];
const STATUSES = ['unset', 'ok', 'error'];
const SPAN_REQUIRED = ['id', 'name', 'start', 'dur'];
const SPAN_FIELDS = new Set([
  'id',
  'parent',
  'parentRemote',
  'name',
  'kind',
  'start',
  'dur',
  'status',
  'message',
  'attrs',
  'droppedAttrs',
  'events',
]);

function span(value: unknown): Problem | string | undefined {
  if (!isObject(value)) return 'must be object';
  const shape = shapeProblem(value, SPAN_REQUIRED, SPAN_FIELDS);
  if (shape !== undefined) return shape;
  const s = value;
  return (
    under('id', hex(s.id, 16, 16, SPAN_ID)) ??
    under('parent', s.parent === undefined ? undefined : hex(s.parent, 16, 16, SPAN_ID)) ??
    under(
      'parentRemote',
      s.parentRemote === undefined || typeof s.parentRemote === 'boolean' ? undefined : 'must be boolean',
    ) ??
    under('name', text(s.name, 1, 256)) ??
    under('kind', s.kind === undefined ? undefined : oneOf(s.kind, KINDS)) ??
    under('start', offset(s.start)) ??
    under('dur', offset(s.dur)) ??
    under('status', s.status === undefined ? undefined : oneOf(s.status, STATUSES)) ??
    under('message', s.message === undefined ? undefined : text(s.message, 0, 1024)) ??
    under('attrs', s.attrs === undefined ? undefined : attributes(s.attrs)) ??
    under(
      'droppedAttrs',
      s.droppedAttrs === undefined ? undefined : integer(s.droppedAttrs, 0, 4_294_967_295),
    ) ??
    under('events', s.events === undefined ? undefined : events(s.events))
  );
}

function spans(value: unknown): Problem | string | undefined {
  if (!Array.isArray(value)) return 'must be array';
  if (value.length > 256) return 'must NOT have more than 256 items';
  if (value.length < 1) return 'must NOT have fewer than 1 items';
  for (let i = 0; i < value.length; i++) {
    const problem = under(i, span(value[i]));
    if (problem !== undefined) return problem;
  }
  return undefined;
}

const WORKER_REQUIRED = ['id', 'version'];
const WORKER_FIELDS = new Set(WORKER_REQUIRED);

function worker(value: unknown): Problem | string | undefined {
  if (!isObject(value)) return 'must be object';
  return (
    shapeProblem(value, WORKER_REQUIRED, WORKER_FIELDS) ??
    under('id', text(value.id, 1, 64)) ??
    under('version', text(value.version, 1, 64))
  );
}

const EDGE_FIELDS = new Set(['ip', 'pop', 'requestId']);

function edge(value: unknown): Problem | string | undefined {
  if (!isObject(value)) return 'must be object';
  const { ip, pop, requestId } = value;
  return (
    shapeProblem(value, [], EDGE_FIELDS) ??
    under('ip', ip === undefined ? undefined : text(ip, 0, 45)) ??
    under('pop', pop === undefined ? undefined : text(pop, 1, 64)) ??
    under('requestId', requestId === undefined ? undefined : text(requestId, 1, 128))
  );
}

const BEACON_REQUIRED = ['v', 'traceId', 'ts', 'worker', 'spans'];
const BEACON_FIELDS = new Set([
  'v',
  'traceId',
  'traceState',
  'flags',
  'th',
  'ts',
  'worker',
  'edge',
  'service',
  'resource',
  'spans',
]);

function beacon(value: unknown): Problem | string | undefined {
  if (!isObject(value)) return 'must be object';
  const shape = shapeProblem(value, BEACON_REQUIRED, BEACON_FIELDS);
  if (shape !== undefined) return shape;
  const b = value;
  return (
    under('v', b.v === 1 ? undefined : 'must be 1') ??
    under('traceId', hex(b.traceId, 32, 32, '^[0-9a-f]{32}$')) ??
    under('traceState', b.traceState === undefined ? undefined : text(b.traceState, 0, 512)) ??
    under('flags', b.flags === undefined ? undefined : integer(b.flags, 0, 255)) ??
    under('th', b.th === undefined ? undefined : hex(b.th, 1, 14, '^[0-9a-f]{1,14}$')) ??
    under('ts', number(b.ts, 0, 32_503_680_000_000)) ??
    under('worker', worker(b.worker)) ??
    under('edge', b.edge === undefined ? undefined : edge(b.edge)) ??
    under('service', b.service === undefined ? undefined : text(b.service, 1, 256)) ??
    under('resource', b.resource === undefined ? undefined : attributes(b.resource)) ??
    under('spans', spans(b.spans))
  );
}

const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/** Checks a parsed beacon; returns undefined when valid, else a 400 error naming the field and the problem. */
export function validateBeacon(value: unknown): RequestError | undefined {
  const problem = beacon(value);
  if (problem !== undefined)
    return invalid(String(typeof problem === 'string' ? new Problem([], problem) : problem));
  const valid = value as Beacon;
  if (valid.traceId === ZERO_TRACE_ID) return invalid('traceId: must not be all zeros');
  if (valid.edge?.ip !== undefined && isIP(valid.edge.ip) === 0)
    return invalid('edge.ip: not an IPv4 or IPv6 address');
  const spans = valid.spans;
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i] as Beacon['spans'][number];
    if (span.id === ZERO_SPAN_ID) return invalid(`spans[${i}].id: must not be all zeros`);
    // As OTLP: an all-zero id is no parent (W3C Trace Context); a root span has none.
    if (span.parent === ZERO_SPAN_ID)
      return invalid(`spans[${i}].parent: must not be all zeros (omit it for a root span)`);
  }
  return undefined;
}
