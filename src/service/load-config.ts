import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { checkExporter } from '../export/config.ts';
import { parseCidr } from '../lib/cidr.ts';
import { dottedPath } from '../lib/dotted-path.ts';
import { ConfigError } from '../lib/errors.ts';
import { addDurationKeyword, addEndpointKeyword } from '../lib/schema-keywords.ts';
import { checkCluster, expandClusterShorthand } from '../route/config.ts';
import { withPolicyNames } from '../sample/policy-path.ts';
import { checkTailSampling } from '../sample/validate-sampling.ts';
import { substituteEnvDeep } from './env-substitution.ts';
import type { RelayConfig } from './relay-config.ts';
import { relaySchema } from './relay-schema.ts';

const ajv = new Ajv({ useDefaults: true, allErrors: false, strict: true, allowUnionTypes: true });
addDurationKeyword(ajv);
addEndpointKeyword(ajv);
ajv.addFormat('cidr', (text: string) => parseCidr(text) !== undefined);
const validate = ajv.compile(relaySchema);

/** Turns ajv's JSON-pointer paths into the dotted keys users write in YAML. */
function describe(error: ErrorObject): ConfigError {
  const path = dottedPath(error.instancePath);
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    return new ConfigError(path ? `${path}.${extra}` : extra, 'unknown key');
  }
  if (error.keyword === 'enum') {
    const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
    return new ConfigError(path, `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`);
  }
  if (error.keyword === 'format' && error.params.format === 'cidr') {
    return new ConfigError(path, 'must be a CIDR such as 203.0.113.0/24 or 2001:db8::/32');
  }
  return new ConfigError(path, error.message ?? 'is not valid');
}

/** Validates a parsed config tree, fills defaults and converts durations; throws a ConfigError naming the key. */
export function resolveConfig(tree: unknown, env: NodeJS.ProcessEnv = process.env): RelayConfig {
  const config = substituteEnvDeep(tree ?? {}, env);
  expandClusterShorthand(config);
  if (!validate(config)) {
    throw withPolicyNames(config, describe((validate.errors as ErrorObject[])[0] as ErrorObject));
  }
  const relayConfig = config as unknown as RelayConfig;
  if (relayConfig.tail_sampling) checkTailSampling(relayConfig.tail_sampling, relayConfig.workers.threads);
  checkCluster(relayConfig.cluster);
  checkExporter(relayConfig.exporter);
  return relayConfig;
}

/** Reads, substitutes and validates a YAML config file. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): RelayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('', `cannot read ${file}: ${(err as Error).message}`);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  // Only the first line, which says where: the rest is an excerpt of the file, which may hold a secret.
  if (first) {
    const where = (first.message.split('\n')[0] as string).replace(/:$/, '');
    throw new ConfigError('', `${file} is not valid YAML: ${where}`);
  }
  return resolveConfig(doc.toJS(), env);
}
