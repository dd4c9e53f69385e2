// Every error the relay reports to a user or a client is defined here, so codes and wording stay consistent.

/** A problem with the relay's configuration, named by its dotted key path. */
export class ConfigError extends Error {
  readonly key: string;
  constructor(key: string, problem: string) {
    super(key ? `${key}: ${problem}` : problem);
    this.name = 'ConfigError';
    this.key = key;
  }
}

/** A request the relay refuses; `statusCode` is what the client receives. */
export class RequestError extends Error {
  readonly statusCode: number;
  readonly reason: RejectReason;
  /** Seconds the client should wait before retrying (429/503 only). */
  readonly retryAfter: number | undefined;
  constructor(statusCode: number, reason: RejectReason, message: string, retryAfter?: number) {
    super(message);
    this.name = 'RequestError';
    this.statusCode = statusCode;
    this.reason = reason;
    this.retryAfter = retryAfter;
  }
}

/** Label values of edge_relay_requests_rejected_total{reason}: one per way a request can be refused. */
export type RejectReason =
  | 'invalid'
  | 'too_large'
  | 'unsupported_media_type'
  | 'unsupported_encoding'
  | 'unauthorized'
  | 'overloaded'
  | 'shutting_down'
  /** Not whole within receiver.read_timeout (or its headers within read_header_timeout): 408, closed. */
  | 'timed_out'
  /** A connection past receiver.max_connections: closed as it arrived. */
  | 'too_many_connections';

export const invalid = (message: string): RequestError => new RequestError(400, 'invalid', message);

export const tooLarge = (limit: number): RequestError =>
  new RequestError(413, 'too_large', `request body is larger than ${limit} bytes`);

export const unsupportedMediaType = (got: string | undefined, allowed: readonly string[]): RequestError =>
  new RequestError(
    415,
    'unsupported_media_type',
    `content-type ${got ? `"${got}"` : '(missing)'} is not supported; use ${allowed.join(' or ')}`,
  );

export const unsupportedEncoding = (got: string): RequestError =>
  new RequestError(
    415,
    'unsupported_encoding',
    `content-encoding "${got}" is not supported; use gzip or identity`,
  );

export const unauthorized = (): RequestError =>
  new RequestError(401, 'unauthorized', 'missing or invalid bearer token in the Authorization header');

export const overloaded = (
  retryAfterSeconds: number,
  why = 'the relay is over its buffer limit',
): RequestError =>
  new RequestError(429, 'overloaded', `${why}; retry after ${retryAfterSeconds} s`, retryAfterSeconds);

export const shuttingDown = (): RequestError =>
  new RequestError(503, 'shutting_down', 'the relay is shutting down; send to another replica', 1);
