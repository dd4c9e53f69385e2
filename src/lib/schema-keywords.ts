import type { Ajv } from 'ajv';
import type { JSONSchema } from 'json-schema-to-ts';
import { parseDuration } from './duration.ts';

/**
 * `"x-duration": true` on a property accepts "5s"/"200ms" or milliseconds and rewrites the value in place
 * to milliseconds, so the rest of the relay only ever sees numbers.
 */
export function addDurationKeyword(ajv: Ajv): void {
  ajv.addKeyword({
    keyword: 'x-duration',
    modifying: true,
    errors: true,
    validate: function validateDuration(
      this: unknown,
      _schema: unknown,
      data: unknown,
      _parent: unknown,
      ctx?: { parentData: Record<string | number, unknown>; parentDataProperty: string | number },
    ): boolean {
      try {
        const ms = parseDuration('', data);
        if (ctx) ctx.parentData[ctx.parentDataProperty] = ms;
        return true;
      } catch (err) {
        (validateDuration as unknown as { errors: unknown[] }).errors = [
          { keyword: 'x-duration', message: (err as Error).message, params: {} },
        ];
        return false;
      }
    },
  });
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^:\s]*):(\d{1,5})$/;

/**
 * `"x-endpoint": true` on a string property accepts a `host:port` (or `[ipv6]:port`) listen address
 * whose port is one a socket can have, 0 to 65535, and says so when it is not.
 */
export function addEndpointKeyword(ajv: Ajv): void {
  ajv.addKeyword({
    keyword: 'x-endpoint',
    type: 'string',
    errors: true,
    validate: function validateEndpoint(this: unknown, _schema: unknown, data: string): boolean {
      const port = HOST_PORT.exec(data)?.[2];
      if (port !== undefined && Number(port) <= 65535) return true;
      (validateEndpoint as unknown as { errors: unknown[] }).errors = [
        {
          keyword: 'x-endpoint',
          message: 'must be host:port with a port from 0 to 65535, such as 0.0.0.0:4318',
          params: {},
        },
      ];
      return false;
    },
  });
}

/** Schema fragment for a duration property with a default, e.g. `duration('5s')`. */
export const duration = (defaultValue: string) => ({ 'x-duration': true, default: defaultValue }) as const;

/** Schema fragment for an http or https URL, or "" for none (the format `http-url`, registered by the loader). */
export const optionalUrl = { type: 'string', format: 'http-url', default: '' } as const;

/** The `http-url` format: empty, or an absolute http or https URL with a host. */
export function isHttpUrl(text: string): boolean {
  if (text === '') return true;
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host !== '';
  } catch {
    return false;
  }
}

/** Schema fragment for a `host:port` listen address. */
export const endpoint = (defaultValue: string) =>
  ({ type: 'string', 'x-endpoint': true, default: defaultValue }) as const;

/**
 * Schema of a config section or block: only the keys it names (unknown keys are an error, never ignored),
 * filled with its defaults when absent.
 */
export const section = <const P extends Record<string, JSONSchema>>(properties: P) =>
  ({ type: 'object', additionalProperties: false, default: {}, properties }) as const;

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The `date-time` format: an RFC 3339 time with its zone (`2027-01-31T00:00:00Z`). A time without a zone
 * would mean a different instant on each host, which a validity window cannot have.
 */
export const isTimestamp = (text: string): boolean => TIMESTAMP.test(text) && !Number.isNaN(Date.parse(text));
