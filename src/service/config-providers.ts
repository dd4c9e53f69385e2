import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../lib/errors.ts';
import type { FilesRead } from './files-read.ts';

/**
 * Where `${scheme:…}` references in the config are resolved from, as the Collector's config providers:
 * `env` for `${env:NAME}`, and the files read for `${file:/path}` (collected, so the caller can watch them).
 */
export interface ConfigProviders {
  env: NodeJS.ProcessEnv;
  /** Every file referenced so far, readable or not (a missing one may appear later), and what it held. */
  files: FilesRead;
}

const REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{file:([^}]+)\}|\$\$/g;

/**
 * A referenced file's content. Trailing line breaks are dropped: `echo token > file` and a Kubernetes
 * Secret written with or without a final newline mean the same secret.
 */
function readReferenced(key: string, path: string, providers: ConfigProviders): string {
  const absolute = resolve(path);
  let content: string;
  try {
    content = readFileSync(absolute, 'utf8');
  } catch (err) {
    providers.files.add(absolute, undefined);
    // The error's own message names the path and the cause (ENOENT, EACCES), never the content.
    throw new ConfigError(key, `cannot read \${file:${path}}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  providers.files.add(absolute, content);
  return content.replace(/[\r\n]+$/, '');
}

/**
 * Replaces `${env:NAME}`, `${env:NAME:-default}` and `${file:/path}` in a config string, as the Collector
 * does; `$$` stands for a literal `$`. An unset variable without a default, or an unreadable file, is an
 * error naming the key, so a missing secret is caught at start-up rather than sent as an empty header.
 * What a reference expands to is not expanded again.
 */
export function substituteReferences(key: string, text: string, providers: ConfigProviders): string {
  return text.replace(
    REFERENCE,
    (match, name: string | undefined, fallback: string | undefined, file: string | undefined) => {
      if (match === '$$') return '$';
      if (file !== undefined) return readReferenced(key, file, providers);
      const value = providers.env[name as string];
      if (value !== undefined) return value;
      if (fallback !== undefined) return fallback;
      throw new ConfigError(
        key,
        `environment variable ${name} is not set (write \${env:${name}:-} to allow empty)`,
      );
    },
  );
}

const WHOLE_REFERENCE = /^\$\{(env|file):[^}]+\}$/;

/**
 * The number or boolean a whole reference's text stands for, when the text reads back the same; else the
 * text. Not a YAML parse: a parser's error quotes the text, and the text is often a secret.
 */
function typed(text: string): unknown {
  if (text === 'true' || text === 'false') return text === 'true';
  const number = Number(text);
  return text.trim() !== '' && String(number) === text ? number : text;
}

/**
 * Applies {@link substituteReferences} to every string in a parsed YAML tree, keeping key paths for errors.
 * A value that is nothing but one reference takes the YAML type of what it expands to (`${env:PORT}` → 4318),
 * as in the Collector, when that type reads back as the same text: a secret of digits (`0042…`, or too
 * long for a double) stays a string.
 */
export function substituteDeep(value: unknown, providers: ConfigProviders, path = ''): unknown {
  if (typeof value === 'string') {
    const text = substituteReferences(path, value, providers);
    return WHOLE_REFERENCE.test(value) ? typed(text) : text;
  }
  if (Array.isArray(value)) return value.map((item, i) => substituteDeep(item, providers, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = substituteDeep(v, providers, path ? `${path}.${k}` : k);
    return out;
  }
  return value;
}
