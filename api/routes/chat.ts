/**
 * Chat: one ChatEntityWorkflow per user (entities/chat/workflow.ts).
 *   POST   /chat/{user_id}          -> processMessage update (update-with-start: the first message creates the entity)
 *   GET    /chat/{user_id}/history  -> getHistory query
 *   DELETE /chat/{user_id}/history  -> clearHistory update
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { chatEntityWorkflowId } from '../../common/ids';
import { ChatEntrySchema, ChatHistorySchema, ChatMessageRequestSchema, UserIdSchema } from '../../common/schemas';
import { clearHistoryUpdate, getHistoryQuery, processMessageUpdate } from '../../entities/chat/messages';
import { ChatEntityWorkflow } from '../../entities/chat/workflow';
import type { AppEnv, RouteDeps } from '../app';
import { queryEntity } from '../entity-query';
import { entityBusy, invalidInput, json, temporalUnavailable } from './responses';

const params = z.object({ user_id: UserIdSchema });

const sendMessageRoute = createRoute({
  method: 'post',
  path: '/chat/{user_id}',
  tags: ['chat'],
  summary: "Send a message to the user's chat entity; answers with the assistant's entry",
  request: { params, body: { required: true, content: { 'application/json': { schema: ChatMessageRequestSchema } } } },
  responses: { 200: json(ChatEntrySchema, 'The reply'), 422: invalidInput, 429: entityBusy, 503: temporalUnavailable },
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

export function chatRoutes({ client, config, entityUpdates }: RouteDeps) {
  return new OpenAPIHono<AppEnv>()
    .openapi(sendMessageRoute, async (c) => {
      const { user_id } = c.req.valid('param');
      const message = c.req.valid('json');
      const workflowId = chatEntityWorkflowId(user_id);
      const reply = await entityUpdates.run(workflowId, () =>
        client.workflow.executeUpdateWithStart(processMessageUpdate, {
          args: [message],
          startWorkflowOperation: new WithStartWorkflowOperation(ChatEntityWorkflow, {
            workflowId,
            taskQueue: config.TASK_QUEUE,
            args: [{ user_id }],
            workflowIdConflictPolicy: 'USE_EXISTING',
            staticSummary: `Chat with ${user_id}`,
          }),
        }),
      );
      return c.json(reply, 200);
    })
    .openapi(getHistoryRoute, async (c) => {
      const { user_id } = c.req.valid('param');
      // A user who never wrote has an empty history.
      const messages = await queryEntity(client, chatEntityWorkflowId(user_id), getHistoryQuery, []);
      return c.json({ user_id, messages }, 200);
    })
    .openapi(clearHistoryRoute, async (c) => {
      const { user_id } = c.req.valid('param');
      const workflowId = chatEntityWorkflowId(user_id);
      await entityUpdates
        .run(workflowId, () => client.workflow.getHandle(workflowId).executeUpdate(clearHistoryUpdate))
        .catch((err: unknown) => {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        });
      return c.body(null, 204);
    });
}
