import { type Logger, pino } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger };

/**
 * JSON logs on stdout. Header and token fields are redacted wherever they appear, so that an access
 * token or a beacon bearer token can never reach a log line even if an object carrying it is logged.
 */
export function createLogger(level: LogLevel | 'silent', bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      level,
      base: bindings,
      redact: {
        paths: [
          'headers',
          '*.headers',
          'authorization',
          '*.authorization',
          'tokens',
          '*.tokens',
          '*.*.tokens',
          'secret',
          '*.secret',
          'beacon_keys',
          '*.beacon_keys',
          '*.*.beacon_keys',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd: 1, sync: true }),
  );
}
