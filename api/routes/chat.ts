/**
 * Chat: one ChatEntityWorkflow per user (entities/chat/workflow.ts), through its client (clients/chat-entity.ts).
 *   POST   /chat/{user_id}          -> processMessage update (update-with-start: the first message creates the entity)
 *   GET    /chat/{user_id}/history  -> getHistory query
 *   DELETE /chat/{user_id}/history  -> clearHistory update
 */
import { randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { chatEntityWorkflowId } from '../../workflows/shared/ids';
import { ChatEntrySchema, ChatHistorySchema, ChatMessageRequestSchema, UserIdSchema } from '../../common/schemas';
import { serveStreamedTurn } from '../../stream/chat-feed';
import { actorOf, viewerOf } from '../access';
import { failureAnswer } from '../errors';
import type { AppEnv, RouteDeps } from '../deps';
import { keyedRequest } from '../idempotency';
import { entityBusy, errorResponse, idempotencyHeaders, invalidInput, json, keyReused, temporalUnavailable } from './responses';

const params = z.object({ user_id: UserIdSchema });

const sendMessageRoute = createRoute({
  method: 'post',
  path: '/chat/{user_id}',
  tags: ['chat'],
  summary: "Send a message to the user's chat entity; answers with the assistant's entry, or streams the turn (Accept: text/event-stream)",
  request: { params, headers: idempotencyHeaders, body: { required: true, content: { 'application/json': { schema: ChatMessageRequestSchema } } } },
  responses: {
    200: {
      description: "The reply; with `Accept: text/event-stream`, the turn as it happens (AI SDK UI message stream chunks, docs/api.md \"Streams\"), ending with `data-entry` (the reply), `finish` and `[DONE]`",
      content: { 'application/json': { schema: ChatEntrySchema }, 'text/event-stream': { schema: z.string() } },
    },
    422: keyReused,
    429: entityBusy,
    503: errorResponse('Temporal is unavailable, or the chat has as many events waiting for Redis as it holds; try again (see Retry-After)'),
  },
});

const getHistoryRoute = createRoute({
  method: 'get',
  path: '/chat/{user_id}/history',
  tags: ['chat'],
  summary: 'The last 10 exchanges (20 entries), oldest first',
  request: { params },
  responses: { 200: json(ChatHistorySchema, 'The history'), 422: invalidInput, 503: temporalUnavailable },
});

const clearHistoryRoute = createRoute({
  method: 'delete',
  path: '/chat/{user_id}/history',
  tags: ['chat'],
  summary: 'Forget the conversation',
  request: { params },
  responses: { 204: { description: 'Cleared' }, 422: invalidInput, 429: entityBusy, 503: temporalUnavailable },
});

/** Whether the client asked for the turn as a stream rather than the reply alone. */
const wantsStream = (accept: string | undefined) => accept !== undefined && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept);

export function chatRoutes({ chats, entityUpdates, feeds, live }: RouteDeps) {
  return new OpenAPIHono<AppEnv>()
    .openapi(sendMessageRoute, async (c) => {
      const { user_id } = c.req.valid('param');
      const message = c.req.valid('json');
      const keyed = keyedRequest(c, message);
      // The user's other tabs (GET /chat/{user_id}/events) show the message as it is sent, the reply as it is
      // written, and take the message back if the chat refuses it.
      const send = (ref: string) => {
        live.publish({ kind: 'user-message', user_id, ref, content: message.content, timestamp: new Date().toISOString() });
        return entityUpdates
          .run(chatEntityWorkflowId(user_id), () => chats.send(user_id, message, actorOf(c), keyed, ref))
          .catch((err: unknown) => {
            live.publish({ kind: 'user-message-refused', user_id, ref, reason: failureAnswer(err)?.detail ?? 'refused' });
            throw err;
          });
      };
      if (wantsStream(c.req.header('accept'))) return serveStreamedTurn(c, { registry: feeds, chats, send }, viewerOf(c, user_id)) as never;
      const reply = await send(randomUUID());
      return c.json(reply, 200);
    })
    .openapi(getHistoryRoute, async (c) => {
      const { user_id } = c.req.valid('param');
      return c.json({ user_id, messages: await chats.history(user_id) }, 200);
    })
    .openapi(clearHistoryRoute, async (c) => {
      const { user_id } = c.req.valid('param');
      await entityUpdates.run(chatEntityWorkflowId(user_id), () => chats.clear(user_id));
      return c.body(null, 204);
    });
}
