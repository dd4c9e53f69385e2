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

// google.rpc.Code values (googleapis google/rpc/code.proto) that OTLP/HTTP error bodies carry.
const INVALID_ARGUMENT = 3;
const RESOURCE_EXHAUSTED = 8;
const INTERNAL = 13;
const UNAVAILABLE = 14;
const UNAUTHENTICATED = 16;

type MessageBuilder = (...args: never[]) => string;

/** One way the relay refuses a request; its factory takes what `message` takes. */
interface Refusal<M extends MessageBuilder> {
  readonly code: `EDGE_RELAY_${string}`;
  /** The HTTP status the client receives. */
  readonly status: number;
  /** The google.rpc.Code of the OTLP/HTTP error body (a google.rpc.Status). */
  readonly grpcCode: number;
  readonly message: M;
  /** Seconds the client should wait before retrying, sent as Retry-After. */
  readonly retryAfter?: (...args: Parameters<M>) => number;
}

const refusal = <M extends MessageBuilder>(row: Refusal<M>): Refusal<M> => row;

/**
 * Every way a request can be refused, keyed by its reason: the `error` field of the JSON body and the
 * label of edge_relay_requests_rejected_total{reason}. The factories below, RejectReason and the
 * reason of a bare status are all read from here. Where two reasons share a status, the first is the
 * one a bare status maps to.
 */
export const REFUSALS = {
  invalid: refusal({
    code: 'EDGE_RELAY_INVALID',
    status: 400,
    grpcCode: INVALID_ARGUMENT,
    message: (problem: string) => problem,
  }),
  unauthorized: refusal({
    code: 'EDGE_RELAY_UNAUTHORIZED',
    status: 401,
    grpcCode: UNAUTHENTICATED,
    message: () => 'missing or invalid bearer token in the Authorization header',
  }),
  too_large: refusal({
    code: 'EDGE_RELAY_TOO_LARGE',
    status: 413,
    // The request as sent can never succeed, as for 415.
    grpcCode: INVALID_ARGUMENT,
    message: (limit: number) => `request body is larger than ${limit} bytes`,
  }),
  unsupported_media_type: refusal({
    code: 'EDGE_RELAY_UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    grpcCode: INVALID_ARGUMENT,
    message: (got: string | undefined, allowed: readonly string[]) =>
      `content-type ${got ? `"${got}"` : '(missing)'} is not supported; use ${allowed.join(' or ')}`,
  }),
  unsupported_encoding: refusal({
    code: 'EDGE_RELAY_UNSUPPORTED_ENCODING',
    status: 415,
    grpcCode: INVALID_ARGUMENT,
    message: (got: string) => `content-encoding "${got}" is not supported; use gzip or identity`,
  }),
  overloaded: refusal({
    code: 'EDGE_RELAY_OVERLOADED',
    status: 429,
    grpcCode: RESOURCE_EXHAUSTED,
    message: (retryAfterSeconds: number, why = 'the relay is over its buffer limit') =>
      `${why}; retry after ${retryAfterSeconds} s`,
    retryAfter: (retryAfterSeconds: number) => retryAfterSeconds,
  }),
  shutting_down: refusal({
    code: 'EDGE_RELAY_SHUTTING_DOWN',
    status: 503,
    grpcCode: UNAVAILABLE,
    message: () => 'the relay is shutting down; send to another replica',
    retryAfter: () => 1,
  }),
  // Counted by the server as it cuts a connection, not answered by a route: the rows name the label.
  timed_out: refusal({
    code: 'EDGE_RELAY_TIMED_OUT',
    status: 408,
    grpcCode: INVALID_ARGUMENT,
    message: () => 'the request was not whole within receiver.read_timeout',
  }),
  too_many_connections: refusal({
    code: 'EDGE_RELAY_TOO_MANY_CONNECTIONS',
    status: 503,
    grpcCode: UNAVAILABLE,
    message: () => 'the relay has receiver.max_connections connections open',
  }),
  internal: refusal({
    code: 'EDGE_RELAY_INTERNAL',
    status: 500,
    grpcCode: INTERNAL,
    // A bug, not the client's doing: logged where it happens, and said no more precisely here.
    message: () => 'internal error',
  }),
  wal_failed: refusal({
    code: 'EDGE_RELAY_WAL_FAILED',
    status: 503,
    grpcCode: UNAVAILABLE,
    message: (detail: string) =>
      `the write-ahead log could not be written (${detail}); nothing was accepted, retry`,
    retryAfter: () => 1,
  }),
  auth_unavailable: refusal({
    code: 'EDGE_RELAY_AUTH_UNAVAILABLE',
    status: 503,
    grpcCode: UNAVAILABLE,
    // Not the client's credentials: the relay cannot check them yet, so a retry may well succeed.
    message: () => "the OIDC issuer's signing keys could not be fetched; retry",
    retryAfter: () => 5,
  }),
};

/** Label values of edge_relay_requests_rejected_total{reason}: one per way a request can be refused. */
export type RejectReason = keyof typeof REFUSALS;

/** A request the relay refuses; `statusCode` is what the client receives. */
export class RequestError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly reason: RejectReason;
  /** Seconds the client should wait before retrying (429/503 only). */
  readonly retryAfter: number | undefined;
  constructor(reason: RejectReason, message: string, retryAfter?: number) {
    super(message);
    this.name = 'RequestError';
    this.code = REFUSALS[reason].code;
    this.statusCode = REFUSALS[reason].status;
    this.reason = reason;
    this.retryAfter = retryAfter;
  }
}

const reasonByStatus = new Map<number, RejectReason>();
for (const [reason, { status }] of Object.entries(REFUSALS) as [RejectReason, { status: number }][]) {
  // A bare 500 is a fault of ours to be logged, not a refusal a status could name.
  if (reason !== 'internal' && !reasonByStatus.has(status)) reasonByStatus.set(status, reason);
}

/** The reason a refusal that carries only an HTTP status (one of fastify's own) is counted under. */
export const reasonOfStatus = (status: number): RejectReason | undefined => reasonByStatus.get(status);

type ArgsOf<R extends RejectReason> = Parameters<(typeof REFUSALS)[R]['message']>;

function factory<R extends RejectReason>(reason: R): (...args: ArgsOf<R>) => RequestError {
  // TypeScript cannot follow a generic key into the row's own builder types: they take ArgsOf<R>.
  const { message, retryAfter } = REFUSALS[reason] as unknown as {
    message: (...args: ArgsOf<R>) => string;
    retryAfter?: (...args: ArgsOf<R>) => number;
  };
  return (...args) => new RequestError(reason, message(...args), retryAfter?.(...args));
}

export const invalid = factory('invalid');
export const tooLarge = factory('too_large');
export const unsupportedMediaType = factory('unsupported_media_type');
export const unsupportedEncoding = factory('unsupported_encoding');
export const unauthorized = factory('unauthorized');
export const overloaded = factory('overloaded');
export const shuttingDown = factory('shutting_down');
export const walFailed = factory('wal_failed');
export const internalError = factory('internal');
export const authUnavailable = factory('auth_unavailable');

export const walFull = (retryAfterSeconds: number): RequestError =>
  overloaded(
    retryAfterSeconds,
    'the write-ahead log is full (accepted spans are not settling: the backend is slow or down)',
  );
