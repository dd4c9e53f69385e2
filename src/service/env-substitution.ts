import { parse as parseYamlScalar } from 'yaml';
import { ConfigError } from '../lib/errors.ts';

const REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\$/g;

/**
 * Replaces `${env:NAME}` and `${env:NAME:-default}` in a config string, as the Collector does;
 * `$$` stands for a literal `$`. An unset variable without a default is an error naming the key,
 * so a missing secret is caught at start-up rather than sent as an empty header.
 */
export function substituteEnv(key: string, text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$$') return '$';
    const value = env[name as string];
    if (value !== undefined) return value;
    if (fallback !== undefined) return fallback;
    throw new ConfigError(
      key,
      `environment variable ${name} is not set (write \${env:${name}:-} to allow empty)`,
    );
  });
}

const WHOLE_REFERENCE = /^\$\{env:[^}]+\}$/;

/**
 * Applies {@link substituteEnv} to every string in a parsed YAML tree, keeping key paths for errors.
 * A value that is nothing but one reference takes the YAML type of what it expands to (`${env:PORT}` → 4318),
 * as in the Collector.
 */
export function substituteEnvDeep(value: unknown, env: NodeJS.ProcessEnv, path = ''): unknown {
  if (typeof value === 'string') {
    const text = substituteEnv(path, value, env);
    if (!WHOLE_REFERENCE.test(value)) return text;
    const typed: unknown = parseYamlScalar(text);
    return typeof typed === 'number' || typeof typed === 'boolean' ? typed : text;
  }
  if (Array.isArray(value)) return value.map((item, i) => substituteEnvDeep(item, env, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteEnvDeep(v, env, path ? `${path}.${k}` : k);
    return out;
  }
  return value;
}
