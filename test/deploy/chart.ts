import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

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

/** The release name and namespace the render tests use (`helm template RELEASE --namespace NAMESPACE`). */
export const RELEASE = 'r';
export const NAMESPACE = 'default';

/** templates/_helpers.tpl "edge-relay.fullname". */
function fullname(values: Tree): string {
  const name = (values.nameOverride as string) || 'edge-relay';
  if (values.fullnameOverride) return (values.fullnameOverride as string).slice(0, 63);
  return (RELEASE.includes(name) ? RELEASE : `${RELEASE}-${name}`).slice(0, 63);
}

/** Several replicas at once: the chart then turns on the relay's cluster through the peers Service. */
export function clustered(values: Tree): boolean {
  return (values.replicaCount as number) > 1 || (values.autoscaling as { enabled: boolean }).enabled;
}

/**
 * Helm's `tpl` over the rendered config, for the templates the tests write ({{ .Release.Name }} and
 * {{ .Release.Namespace }}); any other is refused, so that the mirror never differs from helm silently.
 */
function expandTemplates(node: unknown): unknown {
  if (typeof node === 'string')
    return node.replace(/\{\{\s*(.*?)\s*\}\}/g, (whole, expression: string) => {
      if (expression === '.Release.Name') return RELEASE;
      if (expression === '.Release.Namespace') return NAMESPACE;
      throw new Error(`test/deploy/chart.ts does not mirror the template ${whole}`);
    });
  if (Array.isArray(node)) return node.map(expandTemplates);
  if (isMap(node))
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [expandTemplates(key), expandTemplates(value)]),
    );
  return node;
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
  if (clustered(values) && config.cluster === undefined) {
    const port = String((config.receiver as { endpoint: string }).endpoint).replace(/^.*:/, '');
    config.cluster = {
      self: `http://\${env:POD_IP}:${port}`,
      dns: { hostname: `${fullname(values)}-peers.${NAMESPACE}.svc.cluster.local`, port: Number(port) },
    };
  }
  return expandTemplates(config) as Tree;
}

/** The environment the relay container gets (secret values replaced by stand-ins of valid length). */
export function podEnvironment(values: Tree): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    EDGE_RELAY_CPU_LIMIT: '2',
    EDGE_RELAY_MEMORY_LIMIT: '1073741824',
    POD_IP: '10.1.2.3',
  };
  const lightstep = values.lightstep as { accessToken: string; existingSecret: string };
  if (lightstep.accessToken || lightstep.existingSecret)
    env.LIGHTSTEP_ACCESS_TOKEN = 'stand-in-lightstep-token';
  for (const name of beaconTokenVariables(values)) env[name] = `stand-in-token-for-${name}`;
  for (const item of [
    ...((values.extraEnv ?? []) as { name: string }[]),
    ...(values.extraEnvs as { name: string }[]),
  ])
    env[item.name] = `stand-in-${item.name}`;
  return env;
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

/** The schema of a dotted path, following `properties` at each level; undefined where it declares none. */
export function schemaOf(schema: Tree, path: string): Tree | undefined {
  let node: unknown = schema;
  for (const key of path.split('.')) {
    const properties = isMap(node) ? node.properties : undefined;
    if (!isMap(properties) || !(key in properties)) return undefined;
    node = properties[key];
  }
  return node as Tree;
}

/** Whether a dotted path names a property the schema declares. */
export const schemaDeclares = (schema: Tree, path: string): boolean => schemaOf(schema, path) !== undefined;

/** A former name the schema still accepts and values.yaml no longer sets. */
export const deprecatedInSchema = (schema: Tree, path: string): boolean =>
  schemaOf(schema, path)?.deprecated === true;
