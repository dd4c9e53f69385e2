import type { Ajv } from 'ajv';
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

/** Schema fragment for a duration property with a default, e.g. `duration('5s')`. */
export const duration = (defaultValue: string) => ({ 'x-duration': true, default: defaultValue }) as const;

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

/** Schema fragment for a `host:port` listen address. */
export const endpoint = (defaultValue: string) =>
  ({ type: 'string', 'x-endpoint': true, default: defaultValue }) as const;
