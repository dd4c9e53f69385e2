import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { relaySchema } from '../../src/config/schema.ts';

/** Reading the chart as Helm would, for tests that cannot run helm itself. */

export const CHART_DIR = new URL('../../helm/edge-relay/', import.meta.url).pathname;

type Tree = Record<string, unknown>;

const isMap = (value: unknown): value is Tree =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

export const readYaml = (file: string): Tree => (parse(readFileSync(file, 'utf8')) ?? {}) as Tree;

export const defaultValues = (): Tree => readYaml(join(CHART_DIR, 'values.yaml'));

export const valuesSchema = (): Tree =>
  JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as Tree;

export const exampleFiles = (): string[] =>
  readdirSync(join(CHART_DIR, 'examples'))
    .filter((name) => name.endsWith('.yaml'))
    .map((name) => join(CHART_DIR, 'examples', name));

/** A validator for values.schema.json; draft-07, as Helm 3 and 4 both read it. */
export function valuesValidator() {
  return new Ajv({ allErrors: true, allowUnionTypes: true }).compile(valuesSchema());
}

/** Helm's coalescing of a user values file over the chart's: maps merge, anything else replaces, null deletes. */
export function mergeValues(defaults: Tree, overrides: Tree): Tree {
  const out: Tree = structuredClone(defaults);
  for (const [key, value] of Object.entries(overrides)) {
    if (value === null) delete out[key];
    else if (isMap(value) && isMap(out[key])) out[key] = mergeValues(out[key] as Tree, value);
    else out[key] = structuredClone(value);
  }
  return out;
}

/** Names of the beacon token variables the workload template defines, in order. */
export function beaconTokenVariables(values: Tree): string[] {
  const auth = values.beaconAuth as {
    tokens: string[];
    existingSecret: string;
    existingSecretKeys: string[];
  };
  const count = auth.existingSecret ? auth.existingSecretKeys.length : auth.tokens.length;
  return Array.from({ length: count }, (_, i) => `EDGE_RELAY_BEACON_TOKEN_${i}`);
}

/** The map under `key`, created when absent, as sprig's `default (dict)` then `set` do. */
function child(tree: Tree, key: string): Tree {
  if (!isMap(tree[key])) tree[key] = {};
  return tree[key] as Tree;
}

/** What templates/_helpers.tpl "edge-relay.config" renders into the ConfigMap, for the given values. */
export function chartConfig(values: Tree): Tree {
  const config = structuredClone(values.config) as Tree;
  const refs = beaconTokenVariables(values).map((name) => `\${env:${name}}`);
  if (refs.length > 0) {
    const auth = child(child(config, 'receiver'), 'auth');
    auth.tokens = [...((auth.tokens as string[] | undefined) ?? []), ...refs];
  }
  const persistence = values.persistence as { enabled: boolean; mountPath: string };
  if (persistence.enabled) {
    const queue = child(child(config, 'exporter'), 'sending_queue');
    queue.storage ??= `${persistence.mountPath}/queue`;
  }
  return config;
}

/** The environment the relay container gets (secret values replaced by stand-ins of valid length). */
export function podEnvironment(values: Tree): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { EDGE_RELAY_CPU_LIMIT: '2', EDGE_RELAY_MEMORY_LIMIT: '1073741824' };
  const lightstep = values.lightstep as { accessToken: string; existingSecret: string };
  if (lightstep.accessToken || lightstep.existingSecret)
    env.LIGHTSTEP_ACCESS_TOKEN = 'stand-in-lightstep-token';
  for (const name of beaconTokenVariables(values)) env[name] = `stand-in-token-for-${name}`;
  for (const item of (values.extraEnv ?? []) as { name: string }[]) env[item.name] = `stand-in-${item.name}`;
  return env;
}

/**
 * Keys the chart's examples use that another branch is adding to the relay (tail sampling, the persistent
 * queue). Until the relay's schema has one, it is taken out before validation; once merged, it is validated.
 */
export const PENDING_RELAY_KEYS = [['tail_sampling'], ['exporter', 'sending_queue', 'storage']] as const;

function schemaHas(path: readonly string[]): boolean {
  let node: unknown = relaySchema;
  for (const key of path) {
    node = (node as { properties?: Tree }).properties?.[key];
    if (node === undefined) return false;
  }
  return true;
}

/** Removes the pending keys the relay does not know yet; returns the dotted names of those removed. */
export function withoutPendingKeys(config: Tree): { config: Tree; removed: string[] } {
  const copy = structuredClone(config);
  const removed: string[] = [];
  for (const path of PENDING_RELAY_KEYS) {
    if (schemaHas(path)) continue;
    const parent = path
      .slice(0, -1)
      .reduce<unknown>((node, key) => (isMap(node) ? node[key] : undefined), copy);
    const last = path[path.length - 1] as string;
    if (isMap(parent) && last in parent) {
      delete parent[last];
      removed.push(path.join('.'));
    }
  }
  return { config: copy, removed };
}

/** Whether a dotted path (`a.b.c`) names a key of `tree`. */
export function hasPath(tree: unknown, path: string): boolean {
  let node = tree;
  for (const key of path.split('.')) {
    if (!isMap(node) || !(key in node)) return false;
    node = node[key];
  }
  return true;
}

/** Whether a dotted path names a property the schema declares, following `properties` at each level. */
export function schemaDeclares(schema: Tree, path: string): boolean {
  let node: unknown = schema;
  for (const key of path.split('.')) {
    const properties = isMap(node) ? node.properties : undefined;
    if (!isMap(properties) || !(key in properties)) return false;
    node = properties[key];
  }
  return true;
}
