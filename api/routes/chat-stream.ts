/**
 * A chat's event stream (stream/chat-feed.ts), for the user themself (the chat-owner rule of api/app.ts):
 *   GET /chat/{user_id}/events  -> server-sent events, AI SDK UI message stream chunks, resumable with Last-Event-ID
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { UserIdSchema } from '../../common/schemas';
import { serveFeed } from '../../stream/chat-feed';
import { parseCursor } from '../../stream/live-hub';
import { viewerOf } from '../access';
import type { AppEnv, RouteDeps } from '../deps';
import { ApiError } from '../errors';
import { errorResponse, invalidInput } from './responses';

const params = z.object({ user_id: UserIdSchema });

export const UI_MESSAGE_STREAM_DESCRIPTION =
  'Server-sent events; each `data:` is a chunk of the AI SDK UI message stream (docs/api.md, "Streams"): `start`, `text-start`/`text-delta`/`text-end`, ' +
  '`tool-input-available`, `tool-output-available`/`tool-output-error`/`tool-output-denied`, `tool-approval-request`, `data-*` parts, `finish`.';

const eventsRoute = createRoute({
  method: 'get',
  path: '/chat/{user_id}/events',
  tags: ['chat'],
  summary: "Everything in the user's chat as it happens: replies as they are written, tool steps, approvals, undo, changes to the user's tasks",
  request: {
    params,
    headers: z.object({
      'last-event-id': z.string().max(200).optional().meta({ description: 'Resume after this event (the `id:` of the last event received)' }),
    }),
  },
  responses: {
    200: { description: UI_MESSAGE_STREAM_DESCRIPTION, content: { 'text/event-stream': { schema: z.string() } } },
    422: invalidInput,
    429: errorResponse('The user has STREAM_MAX_PER_USER streams open on this API process already'),
    503: errorResponse('This API process serves STREAM_MAX_CONNECTIONS streams already, or is shutting down (see Retry-After)'),
  },
});

export function chatStreamRoutes({ feeds }: RouteDeps) {
  return new OpenAPIHono<AppEnv>().openapi(eventsRoute, (c) => {
    const { user_id } = c.req.valid('param');
    const lastEventId = c.req.valid('header')['last-event-id'];
    const from = lastEventId === undefined || lastEventId.trim() === '' ? undefined : parseCursor(lastEventId);
    if (lastEventId !== undefined && lastEventId.trim() !== '' && from === undefined) {
      throw new ApiError(422, 'Request validation failed', [{ field: 'last-event-id', message: 'must be the id of an event this stream sent' }]);
    }
    return serveFeed(c, feeds, viewerOf(c, user_id), from) as never;
  });
}
