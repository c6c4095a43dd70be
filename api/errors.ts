/**
 * One error shape for every answer that is not a success: `{ detail, errors? }` (see ErrorResponseSchema),
 * and one handler that maps what routes throw onto status codes. A bug still answers 500, logged with
 * the request id; bad input never gets there.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { entityFailure, type EntityFailureKind } from '../clients/errors';
import type { Logger } from '../common/logger';
import type { ErrorResponse, FieldError } from '../common/schemas';

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    /** Seconds for `Retry-After` (a 429 says 1 unless told otherwise). */
    readonly retryAfter?: number,
  ) {
    super(detail);
  }
}

export const notFound = (detail: string) => new ApiError(404, detail);

/** What each kind of entity or Temporal failure answers (clients/errors.ts reads Temporal's errors). */
const STATUS: Record<EntityFailureKind, ContentfulStatusCode> = {
  not_found: 404,
  refused: 409,
  version_conflict: 412,
  not_applied: 503,
  busy: 429,
  backlogged: 503,
  key_reused: 422,
  unavailable: 503,
};
const RETRY_AFTER: Partial<Record<EntityFailureKind, string>> = { not_applied: '1', busy: '1', backlogged: '30', unavailable: '5' };
/** Details of our own; the others say what the entity said (why it refused). */
const DETAIL: Partial<Record<EntityFailureKind, (message: string) => string>> = {
  not_found: () => 'Not found',
  version_conflict: (message) => `Precondition failed: ${message}`,
  busy: () => 'Temporal is busy with this entity; try again shortly',
  unavailable: () => 'Temporal is unavailable; try again shortly',
};

export function errorBody(detail: string, errors?: FieldError[]): ErrorResponse {
  return errors ? { detail, errors } : { detail };
}

/** The status and detail an entity or Temporal failure answers with; undefined for anything else (a bug). */
export function failureAnswer(err: unknown): { status: ContentfulStatusCode; detail: string; retryAfter?: string } | undefined {
  if (err instanceof ApiError) return { status: err.status, detail: err.detail };
  const failure = entityFailure(err, 'this entity');
  if (!failure) return undefined;
  return { status: STATUS[failure.kind], detail: DETAIL[failure.kind]?.(failure.message) ?? failure.message, retryAfter: RETRY_AFTER[failure.kind] };
}

export function createErrorHandler(logger: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof ApiError) {
      if (err.retryAfter !== undefined || err.status === 429) c.header('Retry-After', String(err.retryAfter ?? 1));
      return c.json(errorBody(err.detail, err.errors), err.status);
    }
    if (err instanceof HTTPException) {
      // Raised by Hono itself, e.g. "Malformed JSON in request body".
      const status = err.status as ContentfulStatusCode;
      return c.json(errorBody(err.message || 'Bad request', [{ field: 'body', message: err.message }]), status);
    }
    const failure = entityFailure(err, 'this entity');
    if (failure) {
      // busy: still refused after the client's retries, e.g. an entity's in-flight update limit shared with other replicas.
      if (failure.kind === 'busy' || failure.kind === 'unavailable') logger.warn({ err, requestId: c.get('requestId') }, failure.message);
      const retryAfter = RETRY_AFTER[failure.kind];
      if (retryAfter) c.header('Retry-After', retryAfter);
      return c.json(errorBody(DETAIL[failure.kind]?.(failure.message) ?? failure.message), STATUS[failure.kind]);
    }
    logger.error({ err, requestId: c.get('requestId') }, 'unhandled error');
    return c.json(errorBody('Internal server error'), 500);
  };
}
