import { describe, expect, it } from 'vitest';
import {
  invalid,
  overloaded,
  REFUSALS,
  reasonOfStatus,
  shuttingDown,
  tooLarge,
  unauthorized,
  unsupportedEncoding,
  unsupportedMediaType,
} from './errors.ts';

describe('refusals', () => {
  it('each factory builds its row: status, code, reason, message and Retry-After', () => {
    const made = [
      invalid('spans[0].id: must match pattern'),
      tooLarge(65536),
      unsupportedMediaType(undefined, ['application/json', 'application/x-protobuf']),
      unsupportedEncoding('br'),
      unauthorized(),
      overloaded(2),
      overloaded(1, 'the relay is over its memory limit'),
      shuttingDown(),
    ];
    expect(
      made.map(({ statusCode, code, reason, message, retryAfter }) => ({
        statusCode,
        code,
        reason,
        message,
        retryAfter,
      })),
    ).toEqual([
      r(400, 'EDGE_RELAY_INVALID', 'invalid', 'spans[0].id: must match pattern'),
      r(413, 'EDGE_RELAY_TOO_LARGE', 'too_large', 'request body is larger than 65536 bytes'),
      r(
        415,
        'EDGE_RELAY_UNSUPPORTED_MEDIA_TYPE',
        'unsupported_media_type',
        'content-type (missing) is not supported; use application/json or application/x-protobuf',
      ),
      r(
        415,
        'EDGE_RELAY_UNSUPPORTED_ENCODING',
        'unsupported_encoding',
        'content-encoding "br" is not supported; use gzip or identity',
      ),
      r(
        401,
        'EDGE_RELAY_UNAUTHORIZED',
        'unauthorized',
        'missing or invalid bearer token in the Authorization header',
      ),
      r(429, 'EDGE_RELAY_OVERLOADED', 'overloaded', 'the relay is over its buffer limit; retry after 2 s', 2),
      r(429, 'EDGE_RELAY_OVERLOADED', 'overloaded', 'the relay is over its memory limit; retry after 1 s', 1),
      r(
        503,
        'EDGE_RELAY_SHUTTING_DOWN',
        'shutting_down',
        'the relay is shutting down; send to another replica',
        1,
      ),
    ]);
  });

  it('a bare status maps to the first reason with that status; a 5xx or unknown status to none', () => {
    expect([400, 401, 413, 415, 429, 503, 404, 500].map(reasonOfStatus)).toEqual([
      'invalid',
      'unauthorized',
      'too_large',
      'unsupported_media_type',
      'overloaded',
      'shutting_down',
      undefined,
      undefined,
    ]);
  });

  it('codes are unique', () => {
    const codes = Object.values(REFUSALS).map((row) => row.code);
    expect(new Set(codes).size).toBe(codes.length);
  });
});

const r = (statusCode: number, code: string, reason: string, message: string, retryAfter?: number) => ({
  statusCode,
  code,
  reason,
  message,
  retryAfter,
});
