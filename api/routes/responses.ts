/** OpenAPI request and response entries shared by the routes. */
import { z } from '@hono/zod-openapi';
import { ErrorResponseSchema } from '../../common/schemas';

export const json = <S>(schema: S, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const errorResponse = (description: string) => json(ErrorResponseSchema, description);

export const invalidInput = errorResponse('The request is malformed; `errors` names each bad field');
export const temporalUnavailable = errorResponse('Temporal is unavailable; try again (see Retry-After)');
export const entityBusy = errorResponse('Too many updates waiting for this entity; try again (see Retry-After)');
export const eventsBacklogged = errorResponse('The chat has as many events waiting for Redis as it holds; try again (see Retry-After)');

/** The `Idempotency-Key` request header (api/idempotency.ts), as the OpenAPI document shows it. */
export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .optional()
    .meta({
      description:
        'Makes a resent request one request: the same key with the same request is answered with the first answer (waiting for it while it runs), for 24 hours; the same key with another request is refused (422). 1 to 255 printable ASCII characters, quoted or not',
      example: '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
    }),
});
export const keyReused = errorResponse('Invalid input, or an Idempotency-Key used before with another request');
