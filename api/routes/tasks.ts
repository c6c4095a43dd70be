/**
 * Tasks as a resource (the seed's task API), each one a TaskEntityWorkflow (entities/task/workflow.ts),
 * reached through its client (clients/task-entity.ts):
 *   POST   /tasks                   -> create (update-with-start), with a generated id
 *   GET    /tasks                   -> Temporal visibility over the TaskStatus / TaskAssignee search attributes
 *   GET    /tasks/{task_id}         -> getTask query, with an ETag
 *   PUT    /tasks/{task_id}/status  -> updateStatus update, conditional on If-Match when given
 *   DELETE /tasks/{task_id}         -> deleteTask update
 */
import { randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { EntityError } from '../../clients/errors';
import { keyedTaskId } from '../../clients/idempotency';
import { taskListQuery } from '../../clients/task-entity';
import { taskEntityWorkflowId } from '../../workflows/shared/ids';
import {
  CreateTaskRequestSchema,
  SettableTaskStatusSchema,
  TaskIdSchema,
  TaskHistorySchema,
  TaskListQuerySchema,
  TaskListSchema,
  TaskSchema,
  UpdateStatusRequestSchema,
  type Task,
} from '../../common/schemas';
import { whyNotChangeStatus } from '../../workflows/shared/access-policy';
import { actorOf, principalOf, requireAdmin } from '../access';
import type { AppEnv, RouteDeps } from '../deps';
import { etagOf, expectedVersion, matchesIfNoneMatch } from '../etag';
import { ApiError, notFound } from '../errors';
import { decodePageToken, encodePageToken, invalidPageToken } from '../page-token';
import { keyedRequest } from '../idempotency';
import { entityBusy, errorResponse, idempotencyHeaders, invalidInput, json, keyReused, temporalUnavailable } from './responses';

const params = z.object({ task_id: TaskIdSchema });
const withEtag = (schema: typeof TaskSchema, description: string) => ({
  ...json(schema, description),
  headers: z.object({ ETag: z.string().meta({ description: 'The task version, for If-Match', example: '"3"' }) }),
});

const createTaskRoute = createRoute({
  method: 'post',
  path: '/tasks',
  tags: ['tasks'],
  summary: 'Create a task with a generated id',
  request: { headers: idempotencyHeaders, body: { required: true, content: { 'application/json': { schema: CreateTaskRequestSchema } } } },
  responses: { 201: withEtag(TaskSchema, 'Created (or, for a resent Idempotency-Key, as it was created)'), 422: keyReused, 503: temporalUnavailable },
});

const listTasksRoute = createRoute({
  method: 'get',
  path: '/tasks',
  tags: ['tasks'],
  summary: 'List open tasks by status and assignee, a page at a time (Temporal visibility; eventually consistent)',
  request: { query: TaskListQuerySchema },
  responses: { 200: json(TaskListSchema, 'A page of tasks'), 422: invalidInput, 503: temporalUnavailable },
});

const getTaskRoute = createRoute({
  method: 'get',
  path: '/tasks/{task_id}',
  tags: ['tasks'],
  summary: 'Read a task from its entity',
  request: { params },
  responses: {
    200: withEtag(TaskSchema, 'The task'),
    304: { description: 'Not modified since the ETag in If-None-Match' },
    404: errorResponse('No such task'),
    422: invalidInput,
    503: temporalUnavailable,
  },
});

const getTaskHistoryRoute = createRoute({
  method: 'get',
  path: '/tasks/{task_id}/history',
  tags: ['tasks'],
  summary: "The task's changes, newest first (its last 500 updates): what changed, when, by whom, and what was put back",
  request: { params },
  responses: { 200: json(TaskHistorySchema, 'The history'), 404: errorResponse('No such task'), 422: invalidInput, 503: temporalUnavailable },
});

const updateStatusRoute = createRoute({
  method: 'put',
  path: '/tasks/{task_id}/status',
  tags: ['tasks'],
  summary: 'Change the status; conditional when If-Match is given',
  request: {
    params,
    query: z.object({ status: SettableTaskStatusSchema.optional().meta({ description: 'The new status (or send it in the body)' }) }),
    body: { required: false, content: { 'application/json': { schema: UpdateStatusRequestSchema } } },
  },
  responses: {
    200: withEtag(TaskSchema, 'The task after the change'),
    404: errorResponse('No such task'),
    403: errorResponse('Only the assignee (by the e-mail in their token) or an admin changes the status'),
    409: errorResponse('The change is not allowed in the task’s current state'),
    412: errorResponse('If-Match no longer matches: the task changed'),
    422: invalidInput,
    429: entityBusy,
    503: temporalUnavailable,
  },
});

const deleteTaskRoute = createRoute({
  method: 'delete',
  path: '/tasks/{task_id}',
  tags: ['tasks'],
  summary: 'Delete a task; conditional when If-Match is given',
  request: { params },
  responses: {
    204: { description: 'Deleted' },
    403: errorResponse('Deleting needs the admin right'),
    404: errorResponse('No such task'),
    412: errorResponse('If-Match no longer matches: the task changed'),
    422: invalidInput,
    429: entityBusy,
    503: temporalUnavailable,
  },
});

/** The seed's 404 for a task that is not there; other failures go to the app's error handler. */
function taskNotFoundAs404(err: unknown): never {
  if (err instanceof EntityError && err.kind === 'not_found') throw notFound('Task not found');
  throw err;
}

function sendTask<S extends 200 | 201>(c: Context<AppEnv>, task: Task, status: S) {
  c.header('ETag', etagOf(task));
  return c.json(task, status);
}

export function taskRoutes({ tasks, entityUpdates }: RouteDeps) {
  return new OpenAPIHono<AppEnv>()
    .openapi(createTaskRoute, async (c) => {
      const input = c.req.valid('json');
      const keyed = keyedRequest(c, input);
      const subject = principalOf(c).subject;
      // A keyed creation names its task after the caller and key, so a resend reaches the same entity,
      // which answers with the task as it first created it.
      const taskId = keyed ? keyedTaskId(subject, keyed.key) : randomUUID();
      const task = await tasks.create(taskId, input, keyed ? { ifExists: 'reuse', keyed, updatedBy: subject } : { ifExists: 'fail', updatedBy: subject });
      c.header('Location', `/tasks/${taskId}`);
      return sendTask(c, task, 201);
    })
    .openapi(listTasksRoute, async (c) => {
      const { status, assignee, page_size, page_token } = c.req.valid('query');
      // The page token is tied to the filters it was made for (api/page-token.ts).
      const query = taskListQuery({ status, assignee });
      const page = await tasks
        .list({ status, assignee }, { pageSize: page_size, pageToken: page_token ? decodePageToken(page_token, query) : undefined })
        .catch((err: unknown) => {
          // A token that passed the checksum but that the server still refuses (INVALID_ARGUMENT or UNKNOWN).
          const code = (err as { code?: number }).code;
          if (page_token && (code === 3 || code === 2)) throw invalidPageToken();
          throw err;
        });
      const next = page.nextPageToken ? encodePageToken(page.nextPageToken, query) : null;
      return c.json({ tasks: page.tasks, next_page_token: next }, 200);
    })
    .openapi(getTaskRoute, async (c) => {
      const task = await tasks.get(c.req.valid('param').task_id);
      if (task === null) throw notFound('Task not found');
      if (matchesIfNoneMatch(c.req.header('if-none-match'), task)) {
        c.header('ETag', etagOf(task));
        return c.body(null, 304);
      }
      return sendTask(c, task, 200);
    })
    .openapi(getTaskHistoryRoute, async (c) => {
      const { task_id } = c.req.valid('param');
      const changes = await tasks.history(task_id);
      if (changes === null) throw notFound('Task not found');
      return c.json({ task_id, changes }, 200);
    })
    .openapi(updateStatusRoute, async (c) => {
      const { task_id } = c.req.valid('param');
      const fromQuery = c.req.valid('query').status;
      const fromBody = (c.req.valid('json') as { status?: typeof fromQuery } | undefined)?.status;
      if (fromQuery !== undefined && fromBody !== undefined && fromQuery !== fromBody) {
        throw new ApiError(422, 'Request validation failed', [{ field: 'status', message: 'query and body name different statuses' }]);
      }
      const status = fromBody ?? fromQuery;
      if (status === undefined) {
        throw new ApiError(422, 'Request validation failed', [{ field: 'status', message: 'is required, in the body or as ?status=' }]);
      }
      const precondition = expectedVersion(c.req.header('if-match'));
      let expected_version = precondition?.version;
      let expected_created_at = precondition?.created_at;
      const principal = principalOf(c);
      if (!principal.admin) {
        // Only the assignee (by the e-mail the token vouches for) moves a task along: checked on the version
        // read here, and the change applies only at that version, so a reassignment in between answers 412
        // instead of slipping through.
        const current = await tasks.get(task_id);
        if (current === null) throw notFound('Task not found');
        const why = whyNotChangeStatus(actorOf(c), current);
        if (why) throw new ApiError(403, `Forbidden: ${why}`);
        expected_version ??= current.version;
        expected_created_at ??= current.created_at;
      }
      const task = await entityUpdates
        .run(taskEntityWorkflowId(task_id), () =>
          tasks.updateStatus(task_id, { status, expected_version, ...(expected_created_at ? { expected_created_at } : {}) }, { updatedBy: principal.subject }),
        )
        .catch(taskNotFoundAs404);
      return sendTask(c, task, 200);
    })
    .openapi(deleteTaskRoute, async (c) => {
      requireAdmin(c);
      const { task_id } = c.req.valid('param');
      const precondition = expectedVersion(c.req.header('if-match'));
      await entityUpdates
        .run(taskEntityWorkflowId(task_id), () =>
          tasks.delete(task_id, { expectedVersion: precondition?.version, expectedCreatedAt: precondition?.created_at, updatedBy: principalOf(c).subject }),
        )
        .catch(taskNotFoundAs404);
      return c.body(null, 204);
    });
}
