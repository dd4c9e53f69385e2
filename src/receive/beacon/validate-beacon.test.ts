import { isIP } from 'node:net';
import type { ErrorObject } from 'ajv';
import { describe, expect, it } from 'vitest';
import { ajvBeaconValidator, beaconSchema } from '../../../test/support/beacon-schema.ts';
import { int, pick, type Random, seeded } from '../../../test/support/fuzz-cases.ts';
import { schemaProblem } from '../../lib/ajv-errors.ts';
import { validateBeacon } from './validate-beacon.ts';

// The validator is hand-written from proto/beacon.schema.json; the oracle is ajv compiled from that schema.
// Beacons are drawn from the schema itself, each node valid or, at a small rate, wrong in a way aimed at one
// of its keywords (a bound one past, a wrong type, a missing or unknown key), so every keyword is hit.

type Schema = Record<string, unknown>;
const schema: Schema = beaconSchema;
const definitions = schema.definitions as Record<string, Schema>;
const ajv = ajvBeaconValidator();

/** ajv's first error, worded as the relay words it, then the checks the schema cannot say. */
function oracle(value: unknown): string | undefined {
  if (!ajv(value)) {
    const { path, problem } = schemaProblem((ajv.errors as ErrorObject[])[0] as ErrorObject, 'field');
    return `${path || 'beacon'}: ${problem}`;
  }
  const beacon = value as {
    traceId: string;
    edge?: { ip?: string };
    spans: { id: string; parent?: string }[];
  };
  if (/^0+$/.test(beacon.traceId)) return 'traceId: must not be all zeros';
  if (beacon.edge?.ip !== undefined && !isIP(beacon.edge.ip)) return 'edge.ip: not an IPv4 or IPv6 address';
  const zeroAt = beacon.spans.findIndex((s) => /^0+$/.test(s.id) || /^0+$/.test(s.parent ?? 'x'));
  if (zeroAt < 0) return undefined;
  const span = beacon.spans[zeroAt] as { id: string };
  return /^0+$/.test(span.id)
    ? `spans[${zeroAt}].id: must not be all zeros`
    : `spans[${zeroAt}].parent: must not be all zeros (omit it for a root span)`;
}

const MUTATION_RATE = 0.02;
const ASTRAL = '😀';

/** A string of n code points, some of them surrogate pairs, so code points and UTF-16 units differ. */
const codePoints = (r: Random, n: number): string =>
  Array.from({ length: n }, () => (r() < 0.2 ? ASTRAL : pick(r, ['a', 'é', '.', '/', '~', '0']))).join('');

function hexOf(r: Random, pattern: string): string {
  const [, min, max] = /\{(\d+)(?:,(\d+))?\}/.exec(pattern) as RegExpExecArray;
  const length = int(r, Number(max ?? min) - Number(min) + 1) + Number(min);
  const digits = r() < 0.05 ? '0' : '0123456789abcdef';
  return Array.from({ length }, () => pick(r, [...digits])).join('');
}

function wrongType(r: Random, type: unknown): unknown {
  const others = [null, true, 'x', 7, 1.5, [], {}, Number.NaN, Number.POSITIVE_INFINITY].filter(
    (v) => typeof v !== type && !(type === 'array' && Array.isArray(v)),
  );
  return pick(r, others);
}

function stringFor(r: Random, node: Schema, wrong: boolean): string {
  if (typeof node.pattern === 'string') {
    const good = hexOf(r, node.pattern);
    if (!wrong) return good;
    // Beside the digits' and letters' ranges ('/' ':' '`' 'g'), upper case, and beyond ASCII.
    const wrongDigit = pick(r, ['A', 'g', '/', ':', '`', 'é', ASTRAL]);
    return pick(r, [
      `${good}0`,
      good.slice(1),
      `${good.slice(1)}${wrongDigit}`,
      `${wrongDigit}${good.slice(1)}`,
      '',
    ]);
  }
  const min = (node.minLength as number | undefined) ?? 0;
  const max = (node.maxLength as number | undefined) ?? 40;
  if (wrong) return codePoints(r, r() < 0.5 ? max + 1 : Math.max(0, min - 1));
  // Near the top bound in UTF-16 units but within it in code points, where counting units would be wrong.
  if (r() < 0.05) return `${'a'.repeat(max - 1)}${ASTRAL}`;
  if (node.maxLength === 45) return pick(r, ['203.0.113.7', '2001:db8::1', 'not-an-ip']);
  return codePoints(r, min + int(r, Math.min(4, max - min + 1)));
}

function numberFor(r: Random, node: Schema, wrong: boolean): number {
  // An attribute's number has no bounds.
  const min = (node.minimum as number | undefined) ?? -1e6;
  const max = (node.maximum as number | undefined) ?? 1e6;
  if (wrong) return pick(r, [min - 1, max + 1, node.type === 'integer' ? min + 0.5 : -0.001]);
  return pick(r, [
    min,
    max,
    min + int(r, Math.min(1000, max - min)),
    ...(node.type === 'integer' ? [] : [0.25]),
  ]);
}

function arrayFor(r: Random, node: Schema, wrong: boolean): unknown[] {
  const rate = wrong ? 0 : MUTATION_RATE;
  const min = (node.minItems as number | undefined) ?? 0;
  const max = node.maxItems as number;
  const length = wrong ? (r() < 0.5 ? max + 1 : Math.max(0, min - 1)) : r() < 0.02 ? max : min + int(r, 3);
  return Array.from({ length }, () => draw(r, node.items as Schema, rate));
}

/** Sets a key as JSON.parse does: `__proto__` becomes an own key, not the prototype. */
const own = (out: object, name: string, value: unknown): void => {
  Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
};

function objectFor(r: Random, node: Schema, wrong: boolean): Record<string, unknown> {
  const rate = wrong ? 0 : MUTATION_RATE;
  const out: Record<string, unknown> = {};
  const required = (node.required as string[] | undefined) ?? [];
  if (node.properties !== undefined) {
    for (const [name, child] of Object.entries(node.properties as Record<string, Schema>))
      if (required.includes(name) || r() < 0.5) out[name] = draw(r, child, rate);
      // The binary decoder leaves a field it did not find as a key holding undefined.
      else if (r() < 0.1) out[name] = undefined;
  } else {
    // An attribute map: names from empty to too long, numeric-looking, or Object.prototype's own.
    const count = r() < 0.02 ? 65 : int(r, 4);
    for (let i = 0; i < count; i++) {
      const name =
        r() < 0.05 ? pick(r, ['', '__proto__', '12', 'k'.repeat(257)]) : `k${i}.${codePoints(r, 2)}`;
      own(out, name, draw(r, node.additionalProperties as Schema, rate));
    }
  }
  if (wrong) {
    const missing = pick(r, required);
    if (missing !== undefined && r() < 0.5) {
      if (r() < 0.5) delete out[missing];
      else out[missing] = undefined;
    } else own(out, pick(r, ['extra', '__proto__', '3']), 1);
  }
  return out;
}

/**
 * A value for this schema node: valid, or at this rate wrong at this node. Below a wrong node all is valid, so
 * the wrong keyword is the one told (a 65-item list of good scalars fails only on maxItems).
 */
function draw(r: Random, node: Schema, rate = MUTATION_RATE): unknown {
  if (typeof node.$ref === 'string')
    return draw(r, definitions[node.$ref.split('/').pop() as string] as Schema, rate);
  if (Array.isArray(node.anyOf)) return draw(r, pick(r, node.anyOf as Schema[]), rate);
  const wrong = r() < rate;
  if (node.const !== undefined) return wrong ? pick(r, [2, '1', null]) : node.const;
  if (Array.isArray(node.enum)) return wrong ? pick(r, ['Error', 'unknown', 3]) : pick(r, node.enum);
  const type = Array.isArray(node.type) ? pick(r, node.type as string[]) : node.type;
  if (wrong && r() < 0.4) return wrongType(r, type);
  switch (type) {
    case 'string':
      return stringFor(r, node, wrong);
    case 'number':
    case 'integer':
      return numberFor(r, node, wrong);
    case 'boolean':
      return r() < 0.5;
    case 'array':
      return arrayFor(r, node, wrong);
    default:
      return objectFor(r, node, wrong);
  }
}

describe('validateBeacon against ajv compiled from the schema', () => {
  it('agrees on verdict and message for 5,000 seeded beacons, hitting every keyword', () => {
    const r = seeded(19);
    const keywords = new Set<string>();
    let valid = 0;
    for (let n = 0; n < 5_000; n++) {
      const value = draw(r, schema);
      const expected = oracle(value);
      if (expected === undefined) valid++;
      else if (ajv.errors) keywords.add((ajv.errors[0] as ErrorObject).keyword);
      const got = validateBeacon(value)?.message;
      if (got !== expected) expect({ n, value, got }).toEqual({ n, value, got: expected });
    }
    // Both kinds of beacon are common, so neither verdict is agreed on by default.
    expect(valid).toBeGreaterThan(500);
    expect(valid).toBeLessThan(4_500);
    expect([...keywords].sort()).toEqual(
      [
        'additionalProperties',
        'const',
        'enum',
        'maxItems',
        'maxLength',
        'maxProperties',
        'maximum',
        'minItems',
        'minLength',
        'minimum',
        'pattern',
        'required',
        'type',
      ].sort(),
    );
  });
});
