import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FuzzCase, mutateBytes, type Random } from './fuzz-cases.ts';
import { beaconJsonTree, damageJson, otlpJsonTree } from './fuzz-json.ts';
import { beaconTree, damage, otlpTree } from './fuzz-proto.ts';
import { encode, type ProtoField } from './proto-tree.ts';

// The four things a client can post (two routes, two encodings), each with its generator of hostile
// bodies: mostly structure-aware damage to a well-formed body, some byte-level mutation of one, and
// some left well-formed (to keep the pipeline behind the receiver busy). Both the short pass in
// `npm test` and the long one (`npm run fuzz`) draw from these.

export type Route = '/v1/beacons' | '/v1/traces';
export interface RoutedCase extends FuzzCase {
  route: Route;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const PROTO_TYPE = { 'content-type': 'application/x-protobuf' };

function protoCase(r: Random, tree: ProtoField[], what: string): Omit<FuzzCase, 'headers'> {
  const roll = r();
  if (roll < 0.1) return { kind: `valid ${what}`, body: encode(tree) };
  if (roll < 0.25) return { kind: `mutated ${what} bytes`, body: mutateBytes(r, encode(tree)) };
  const damaged = damage(r, tree);
  return { kind: `${what}: ${damaged.kind}`, body: damaged.body };
}

function jsonCase(r: Random, tree: Record<string, unknown>, what: string): Omit<FuzzCase, 'headers'> {
  const roll = r();
  if (roll < 0.1) return { kind: `valid ${what}`, body: Buffer.from(JSON.stringify(tree)) };
  if (roll < 0.25)
    return { kind: `mutated ${what} bytes`, body: mutateBytes(r, Buffer.from(JSON.stringify(tree))) };
  const damaged = damageJson(r, tree);
  return { kind: `${what}: ${damaged.kind}`, body: damaged.body };
}

const target =
  (route: Route, headers: Record<string, string>, make: (r: Random) => Omit<FuzzCase, 'headers'>) =>
  (r: Random): RoutedCase => ({ route, headers, ...make(r) });

export const TARGETS: Record<string, (r: Random) => RoutedCase> = {
  'traces protobuf': target('/v1/traces', PROTO_TYPE, (r) => protoCase(r, otlpTree(r), 'otlp protobuf')),
  'traces json': target('/v1/traces', JSON_TYPE, (r) => jsonCase(r, otlpJsonTree(r), 'otlp json')),
  'beacons protobuf': target('/v1/beacons', PROTO_TYPE, (r) =>
    protoCase(r, beaconTree(r), 'beacon protobuf'),
  ),
  'beacons json': target('/v1/beacons', JSON_TYPE, (r) => jsonCase(r, beaconJsonTree(r), 'beacon json')),
};

/** A body whose answer is known: a case that once failed, kept so that it cannot fail again. */
export interface Regression extends RoutedCase {
  file: string;
  /** The status it must get. */
  status: number;
}

const REGRESSIONS = new URL('../fixtures/fuzz-regressions/', import.meta.url).pathname;

/** Every kept regression case (test/fixtures/fuzz-regressions/*.json). */
export function regressions(dir = REGRESSIONS): Regression[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((file) => {
      const saved = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        route: Route;
        headers: Record<string, string>;
        body: string;
        status: number;
        found: string;
      };
      return { ...saved, file, kind: saved.found, body: Buffer.from(saved.body, 'base64') };
    });
}

/**
 * Keeps a case that failed, with the status it should get (the fuzzer's best guess: 400, as a
 * hostile body should be refused; edit the file if it should have been taken). Returns the file.
 */
export function keepRegression(fuzz: RoutedCase, found: string, status = 400, dir = REGRESSIONS): string {
  mkdirSync(dir, { recursive: true });
  const id = createHash('sha256').update(fuzz.route).update(fuzz.body).digest('hex').slice(0, 12);
  const file = join(dir, `${fuzz.route.split('/').at(-1)}-${id}.json`);
  const saved = {
    route: fuzz.route,
    headers: fuzz.headers,
    status,
    found,
    body: fuzz.body.toString('base64'),
  };
  writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`);
  return file;
}

/** How many cases of each target the short pass in `npm test` runs (a few seconds in all). */
export const SHORT_PASS = 500;
