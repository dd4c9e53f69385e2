import type { ErrorObject } from 'ajv';
import { dottedPath } from './dotted-path.ts';

/** What a failed schema check says: the dotted path of the offending field and the problem with it. */
export interface SchemaProblem {
  readonly path: string;
  readonly problem: string;
}

/** Formats the relay's schemas declare, in words a reader can act on. */
const FORMAT_WORDS: Record<string, string> = {
  cidr: 'must be a CIDR such as 203.0.113.0/24 or 2001:db8::/32',
  'http-url':
    'must be an http:// or https:// URL, such as https://ingest.lightstep.com/traces/otlp/v0.9 (or empty)',
  'date-time': 'must be an RFC 3339 time with a zone, such as 2027-01-31T00:00:00Z',
};

const join = (path: string, name: unknown): string => (path ? `${path}.${String(name)}` : String(name));

/**
 * Words ajv's first error the same way for config files and beacons, naming the field as users write it.
 * `noun` is what a field is called where the error is shown: a config `key`, a beacon `field`.
 */
export function schemaProblem(error: ErrorObject, noun: 'key' | 'field'): SchemaProblem {
  const path = dottedPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return { path: join(path, params.additionalProperty), problem: `unknown ${noun}` };
    case 'required':
      return { path: join(path, params.missingProperty), problem: `required ${noun} is missing` };
    case 'enum':
      return {
        path,
        problem: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'const':
      return { path, problem: `must be ${JSON.stringify(params.allowedValue)}` };
    case 'format':
      return { path, problem: FORMAT_WORDS[String(params.format)] ?? error.message ?? 'is not valid' };
    default:
      return { path, problem: error.message ?? 'is not valid' };
  }
}
