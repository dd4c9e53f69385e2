import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  internalError,
  RequestError,
  reasonOfStatus,
  tooLarge,
  unsupportedMediaType,
} from '../lib/errors.ts';
import { SPAN_MEDIA_TYPES } from '../lib/media-types.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { ReceiverMetricsWriter } from '../telemetry/receiver-metrics.ts';

/** What a refused request is answered with, in the body format its route speaks. */
export type ErrorBody = (error: RequestError) => { contentType: string; body: unknown };

export const jsonErrorBody: ErrorBody = (error) => ({
  contentType: 'application/json; charset=utf-8',
  body: { error: error.reason, message: error.message },
});

/** Normalises fastify's own errors (body too large, unknown media type…) into RequestErrors. */
export function asRequestError(
  error: FastifyError | RequestError,
  request: FastifyRequest,
): RequestError | undefined {
  if (error instanceof RequestError) return error;
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return tooLarge(request.routeOptions.bodyLimit ?? 0);
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return unsupportedMediaType(request.headers['content-type'], SPAN_MEDIA_TYPES);
  }
  const status = error.statusCode ?? 500;
  const reason = reasonOfStatus(status);
  if (status >= 500 || reason === undefined) return undefined;
  return new RequestError(reason, error.message);
}

/**
 * Every refused request is counted by reason and answered with a body that names the problem;
 * anything unexpected is a 500 that is logged, never a crash.
 */
export function errorHandler(
  metrics: Pick<ReceiverMetricsWriter, 'rejected'>,
  log: Logger,
  bodyFor: (request: FastifyRequest) => ErrorBody,
) {
  return (error: FastifyError | RequestError, request: FastifyRequest, reply: FastifyReply): void => {
    let refused = asRequestError(error, request);
    if (!refused) {
      log.error({ err: error, url: request.url }, 'unexpected error while handling a request');
      refused = internalError();
    }
    metrics.rejected(refused.reason);
    if (refused.retryAfter !== undefined) reply.header('retry-after', String(refused.retryAfter));
    const { contentType, body } = bodyFor(request)(refused);
    reply.code(refused.statusCode).type(contentType).send(body);
  };
}
