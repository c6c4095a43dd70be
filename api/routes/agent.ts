/**
 * The agent's side of a user's chat (entities/chat/workflow.ts), through its client (clients/chat-entity.ts):
 *   GET  /chat/{user_id}/approvals                 -> getApprovals query: changes waiting for the user
 *   POST /chat/{user_id}/approvals/{approval_id}   -> decideApproval update: the assistant's follow-up
 *   POST /chat/{user_id}/undo                      -> undoLastTurn update: what it reverted
 *   GET  /chat/{user_id}/profile                   -> getProfile query
 *   PUT  /chat/{user_id}/profile                   -> setProfile update (update-with-start)
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { EntityError } from '../../clients/errors';
import { chatEntityWorkflowId } from '../../workflows/shared/ids';
import {
  ApprovalDecisionRequestSchema,
  ApprovalListSchema,
  ChatEntrySchema,
  EntityIdSchema,
  UserIdSchema,
  UserProfileInputSchema,
  UserProfileViewSchema,
  type UserProfile,
  type UserProfileView,
} from '../../common/schemas';
import { sameEmail } from '../../workflows/shared/access-policy';
import { actorOf, principalOf } from '../access';
import type { AppEnv, RouteDeps } from '../deps';
import { ApiError, notFound } from '../errors';
import { keyedRequest } from '../idempotency';
import { entityBusy, errorResponse, eventsBacklogged, idempotencyHeaders, invalidInput, json, keyReused, temporalUnavailable } from './responses';

const params = z.object({ user_id: UserIdSchema });

const listApprovalsRoute = createRoute({
  method: 'get',
  path: '/chat/{user_id}/approvals',
  tags: ['agent'],
  summary: 'Changes the agent waits for the user to approve',
  request: { params },
  responses: { 200: json(ApprovalListSchema, 'The approvals waiting'), 422: invalidInput, 503: temporalUnavailable },
});

const decideRoute = createRoute({
  method: 'post',
  path: '/chat/{user_id}/approvals/{approval_id}',
  tags: ['agent'],
  summary: "Approve or deny a change; answers with the assistant's follow-up",
  request: {
    params: params.extend({ approval_id: EntityIdSchema.meta({ example: 'ap-3f2c9a1b' }) }),
    headers: idempotencyHeaders,
    body: { required: true, content: { 'application/json': { schema: ApprovalDecisionRequestSchema } } },
  },
  responses: {
    200: json(ChatEntrySchema, "The assistant's follow-up"),
    404: errorResponse('No such approval waiting (decided, expired, or never asked)'),
    422: keyReused,
    429: entityBusy,
    503: temporalUnavailable,
  },
});

const undoRoute = createRoute({
  method: 'post',
  path: '/chat/{user_id}/undo',
  tags: ['agent'],
  summary: 'Revert the task changes of the last turn that made any; answers with what was reverted',
  request: { params, headers: idempotencyHeaders },
  responses: { 200: json(ChatEntrySchema, 'What was reverted, task by task'), 422: keyReused, 429: entityBusy, 503: eventsBacklogged },
});

const getProfileRoute = createRoute({
  method: 'get',
  path: '/chat/{user_id}/profile',
  tags: ['agent'],
  summary: 'What the agent knows of the user',
  request: { params },
  responses: { 200: json(UserProfileViewSchema, 'The profile (fields unknown are null)'), 422: invalidInput, 503: temporalUnavailable },
});

const putProfileRoute = createRoute({
  method: 'put',
  path: '/chat/{user_id}/profile',
  tags: ['agent'],
  summary: 'Replace what the agent knows of the user (fields left out become unknown; unknown fields are refused)',
  request: { params, body: { required: true, content: { 'application/json': { schema: UserProfileInputSchema } } } },
  responses: {
    200: json(UserProfileViewSchema, 'The profile'),
    422: errorResponse('Invalid input, or an e-mail other than the one your token vouches for'),
    429: entityBusy,
    503: temporalUnavailable,
  },
});

/** The profile with whether its e-mail is the one the caller's own token vouches for. */
function profileView(c: Context, userId: string, profile: UserProfile): UserProfileView {
  const principal = principalOf(c);
  return { ...profile, email_verified: principal.subject === userId && sameEmail(profile.email, principal.email) };
}

export function agentRoutes({ chats, entityUpdates }: RouteDeps) {
  const lane = (userId: string) => chatEntityWorkflowId(userId);
  return new OpenAPIHono<AppEnv>()
    .openapi(listApprovalsRoute, async (c) => {
      const { user_id } = c.req.valid('param');
      return c.json({ approvals: await chats.approvals(user_id) }, 200);
    })
    .openapi(decideRoute, async (c) => {
      const { user_id, approval_id } = c.req.valid('param');
      const { approved } = c.req.valid('json');
      const keyed = keyedRequest(c, { approved });
      const reply = await entityUpdates.run(lane(user_id), () => chats.decide(user_id, approval_id, approved, keyed)).catch((err: unknown) => {
        if (err instanceof EntityError && err.kind === 'not_found') throw notFound(`No approval ${approval_id} is waiting (decided, expired, or never asked)`);
        throw err;
      });
      return c.json(reply, 200);
    })
    .openapi(undoRoute, async (c) => {
      const { user_id } = c.req.valid('param');
      const keyed = keyedRequest(c);
      return c.json(await entityUpdates.run(lane(user_id), () => chats.undo(user_id, actorOf(c), keyed)), 200);
    })
    .openapi(getProfileRoute, async (c) => {
      const { user_id } = c.req.valid('param');
      return c.json(profileView(c, user_id, await chats.profile(user_id)), 200);
    })
    .openapi(putProfileRoute, async (c) => {
      const { user_id } = c.req.valid('param');
      const profile = c.req.valid('json');
      // A user's token that vouches for an e-mail fixes it: another one would claim an address that is not theirs.
      const vouched = principalOf(c).email;
      if (principalOf(c).subject === user_id && vouched && profile.email && !sameEmail(profile.email, vouched)) {
        throw new ApiError(422, 'Request validation failed', [{ field: 'email', message: `must be the e-mail your token vouches for (${vouched}), or left out` }]);
      }
      return c.json(profileView(c, user_id, await entityUpdates.run(lane(user_id), () => chats.setProfile(user_id, profile))), 200);
    });
}
