import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import type { JSONSchema } from 'json-schema-to-ts';
import { parseDocument } from 'yaml';
import { storageDirectory } from '../export/file-storage.ts';
import { schemaProblem } from '../lib/ajv-errors.ts';
import { parseCidr } from '../lib/cidr.ts';
import type { Component } from '../lib/component.ts';
import { ConfigError } from '../lib/errors.ts';
import { addDurationKeyword, addEndpointKeyword, isHttpUrl, isTimestamp } from '../lib/schema-keywords.ts';
import { authEnabled } from '../receive/auth/config.ts';
import { clusterEnabled } from '../route/config.ts';
import { type ConfigProviders, substituteDeep } from './config-providers.ts';
import { FilesRead } from './files-read.ts';
import { COMPONENTS, type RelayConfig, relaySchema } from './relay-schema.ts';

/**
 * `100_000` is a number, as in the Collector's YAML parser (and its own README's examples); a quoted
 * "100_000" stays a string.
 */
const underscoredInt = {
  identify: (value: unknown) => typeof value === 'number',
  default: true,
  tag: 'tag:yaml.org,2002:int',
  test: /^[-+]?[0-9]+(?:_[0-9]+)+$/,
  resolve: (text: string) => Number(text.replaceAll('_', '')),
};

const ajv = new Ajv({ useDefaults: true, allErrors: false, strict: true, allowUnionTypes: true });
addDurationKeyword(ajv);
addEndpointKeyword(ajv);
ajv.addFormat('cidr', (text: string) => parseCidr(text) !== undefined);
ajv.addFormat('http-url', isHttpUrl);
ajv.addFormat('date-time', isTimestamp);
const validate = ajv.compile(relaySchema);

// The gathered list, seen as components of any section: the loader treats them all alike.
const components: readonly Component<string, JSONSchema, unknown>[] = COMPONENTS;

/** The component whose section a dotted key is in. */
const ownerOf = (key: string) => components.find((c) => key === c.key || key.startsWith(`${c.key}.`));

/**
 * What no single section can settle: settings that must agree across sections, and the Collector's forms
 * that name another section (a storage extension; the exporter's batcher, which is the batch processor
 * here). `given` holds the top-level keys the file wrote.
 */
function settleAcrossSections(config: RelayConfig, given: ReadonlySet<string>): void {
  const shards = config.tail_sampling?.num_shards ?? 0;
  const threads = config.workers.threads;
  if (shards > 0 && threads > 0 && shards !== threads) {
    throw new ConfigError(
      'tail_sampling.num_shards',
      `${shards} differs from workers.threads ${threads}; each worker thread is one shard, so set only one of them`,
    );
  }
  const { auth } = config.receiver;
  if (clusterEnabled(config.cluster) && authEnabled(auth) && auth.tokens.length === 0) {
    throw new ConfigError(
      'receiver.auth.tokens',
      "a cluster's replicas present a token to each other: list one (beacon keys and OIDC authenticate clients only)",
    );
  }
  const queue = config.exporter.sending_queue;
  queue.storage = storageDirectory(queue.storage, config.extensions);
  const batcher = config.exporter.batcher;
  if (batcher?.enabled) {
    if (given.has('batch')) {
      throw new ConfigError(
        'exporter.batcher',
        'set batch or exporter.batcher, not both: here they are one batching step',
      );
    }
    config.batch = {
      send_batch_size: batcher.min_size,
      send_batch_max_size: batcher.max_size,
      timeout: batcher.flush_timeout,
    };
  }
}

/**
 * Validates a parsed config tree, fills defaults and converts durations; throws a ConfigError naming the key.
 * Files read for `${file:…}` references are added to `files`.
 */
export function resolveConfig(
  tree: unknown,
  env: NodeJS.ProcessEnv = process.env,
  files = new FilesRead(),
): RelayConfig {
  const providers: ConfigProviders = { env, files };
  const config = substituteDeep(tree ?? {}, providers) as Record<string, unknown>;
  const given = new Set(Object.keys(config));
  for (const c of components) {
    if (c.expand && config[c.key] !== undefined) config[c.key] = c.expand(config[c.key]);
  }
  if (!validate(config)) {
    const { path, problem } = schemaProblem((validate.errors as ErrorObject[])[0] as ErrorObject, 'key');
    const error = new ConfigError(path, problem);
    throw ownerOf(path)?.explain?.(config, error) ?? error;
  }
  for (const c of components) {
    if (config[c.key] !== undefined) c.check?.(config[c.key]);
  }
  const relayConfig = config as unknown as RelayConfig;
  settleAcrossSections(relayConfig, given);
  return relayConfig;
}

/**
 * Reads, substitutes and validates a YAML config file. `read` is told every file read (the config file
 * and what its `${file:…}` references name) and what it held; after a ConfigError it still has what was
 * read up to the failure, so that a reload keeps watching a secret file that is missing for now.
 */
export function loadConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  read = new FilesRead(),
): RelayConfig {
  const configFile = resolve(file);
  let text: string;
  try {
    text = readFileSync(configFile, 'utf8');
  } catch (err) {
    read.add(configFile, undefined);
    throw new ConfigError('', `cannot read ${file}: ${(err as Error).message}`);
  }
  read.add(configFile, text);
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, customTags: [underscoredInt] });
  const first = doc.errors[0];
  // Only the first line, which says where: the rest is an excerpt of the file, which may hold a secret.
  if (first) {
    const where = (first.message.split('\n')[0] as string).replace(/:$/, '');
    throw new ConfigError('', `${file} is not valid YAML: ${where}`);
  }
  return resolveConfig(doc.toJS(), env, read);
}
