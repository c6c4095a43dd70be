/**
 * One error shape for every answer that is not a success: `{ detail, errors? }` (see ErrorResponseSchema),
 * and one handler that maps what routes throw onto status codes. A bug still answers 500, logged with
 * the request id; bad input never gets there.
 */
import { ServiceError } from '@temporalio/client';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from '../common/logger';
import type { ErrorResponse, FieldError } from '../common/schemas';

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly detail: string,
    readonly errors?: FieldError[],
  ) {
    super(detail);
  }
}

export const notFound = (detail: string) => new ApiError(404, detail);

/** gRPC codes that mean "Temporal is not reachable right now": the client may try again. */
const UNAVAILABLE_CODES = new Set([4 /* DEADLINE_EXCEEDED */, 14 /* UNAVAILABLE */]);
const RESOURCE_EXHAUSTED = 8;

export function errorBody(detail: string, errors?: FieldError[]): ErrorResponse {
  return errors ? { detail, errors } : { detail };
}

export function createErrorHandler(logger: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof ApiError) {
      if (err.status === 429) c.header('Retry-After', '1');
      return c.json(errorBody(err.detail, err.errors), err.status);
    }
    if (err instanceof HTTPException) {
      // Raised by Hono itself, e.g. "Malformed JSON in request body".
      const status = err.status as ContentfulStatusCode;
      return c.json(errorBody(err.message || 'Bad request', [{ field: 'body', message: err.message }]), status);
    }
    const code = (err as { code?: unknown }).code ?? (err.cause as { code?: unknown } | undefined)?.code;
    if (err instanceof ServiceError && typeof code === 'number' && UNAVAILABLE_CODES.has(code)) {
      logger.warn({ err, requestId: c.get('requestId') }, 'Temporal unavailable');
      c.header('Retry-After', '5');
      return c.json(errorBody('Temporal is unavailable; try again shortly'), 503);
    }
    if (err instanceof ServiceError && code === RESOURCE_EXHAUSTED) {
      // Still refused after the client's retries, e.g. an entity's in-flight update limit shared with other replicas.
      logger.warn({ err, requestId: c.get('requestId') }, 'Temporal refused: resource exhausted');
      c.header('Retry-After', '1');
      return c.json(errorBody('Temporal is busy with this entity; try again shortly'), 429);
    }
    logger.error({ err, requestId: c.get('requestId') }, 'unhandled error');
    return c.json(errorBody('Internal server error'), 500);
  };
}
