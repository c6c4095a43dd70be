/** OpenAPI response entries shared by the routes. */
import { ErrorResponseSchema } from '../../common/schemas';

export const json = <S>(schema: S, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const errorResponse = (description: string) => json(ErrorResponseSchema, description);

export const invalidInput = errorResponse('The request is malformed; `errors` names each bad field');
export const temporalUnavailable = errorResponse('Temporal is unavailable; try again (see Retry-After)');
export const entityBusy = errorResponse('Too many updates waiting for this entity; try again (see Retry-After)');
