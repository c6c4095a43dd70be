/**
 * Tasks as a resource (the seed's task API), each one a TaskEntityWorkflow (entities/task/workflow.ts):
 *   POST   /tasks                   -> createTask update-with-start, with a generated id
 *   GET    /tasks                   -> Temporal visibility over the TaskStatus / TaskAssignee search attributes
 *   GET    /tasks/{task_id}         -> getTask query, with an ETag
 *   PUT    /tasks/{task_id}/status  -> updateStatus update, conditional on If-Match when given
 *   DELETE /tasks/{task_id}         -> deleteTask update
 */
import { randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import type { Context } from 'hono';
import { TASK_ENTITY_PREFIX, taskEntityWorkflowId } from '../../common/ids';
import {
  CreateTaskRequestSchema,
  SettableTaskStatusSchema,
  TaskIdSchema,
  TaskListQuerySchema,
  TaskListSchema,
  TaskSchema,
  UpdateStatusRequestSchema,
  type Task,
  type TaskStatus,
} from '../../common/schemas';
import { TaskAssigneeAttribute, TaskIdAttribute, TaskStatusAttribute } from '../../common/search-attributes';
import {
  createTaskUpdate,
  deleteTaskUpdate,
  getTaskQuery,
  updateStatusUpdate,
  type TaskEntityFailureType,
} from '../../entities/task/messages';
import { TaskEntityWorkflow } from '../../entities/task/workflow';
import type { AppEnv, RouteDeps } from '../app';
import { queryEntity } from '../entity-query';
import { etagOf, expectedVersion, matchesIfNoneMatch } from '../etag';
import { ApiError, notFound } from '../errors';
import { decodePageToken, encodePageToken, invalidPageToken } from '../page-token';
import { entityBusy, errorResponse, invalidInput, json, temporalUnavailable } from './responses';

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
  request: { body: { required: true, content: { 'application/json': { schema: CreateTaskRequestSchema } } } },
  responses: { 201: withEtag(TaskSchema, 'Created'), 422: invalidInput, 503: temporalUnavailable },
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
  summary: 'Delete a task',
  request: { params },
  responses: { 204: { description: 'Deleted' }, 404: errorResponse('No such task'), 422: invalidInput, 429: entityBusy, 503: temporalUnavailable },
});

/** Maps what an update to an entity can fail with onto HTTP answers. */
function entityUpdateError(err: unknown): never {
  if (err instanceof WorkflowNotFoundError) throw notFound('Task not found');
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause as { type?: TaskEntityFailureType; message?: string } | undefined;
    const reason = cause?.message ?? err.message;
    if (cause?.type === 'TaskNotFound') throw notFound('Task not found');
    if (cause?.type === 'VersionConflict') throw new ApiError(412, `Precondition failed: ${reason}`);
    throw new ApiError(409, reason);
  }
  // An update sent to a run that has completed (the task was deleted) is refused by the server.
  if (/already completed|workflow execution.*not found/i.test(String((err as Error)?.message))) throw notFound('Task not found');
  throw err;
}

function sendTask<S extends 200 | 201>(c: Context<AppEnv>, task: Task, status: S) {
  c.header('ETag', etagOf(task));
  return c.json(task, status);
}

async function readTask(client: Client, taskId: string): Promise<Task> {
  const task = await queryEntity(client, taskEntityWorkflowId(taskId), getTaskQuery, null);
  if (task === null) throw notFound('Task not found');
  return task;
}

export function taskRoutes({ client, config, entityUpdates }: RouteDeps) {
  return new OpenAPIHono<AppEnv>()
    .openapi(createTaskRoute, async (c) => {
      const input = c.req.valid('json');
      const taskId = randomUUID();
      const task = await client.workflow.executeUpdateWithStart(createTaskUpdate, {
        args: [input],
        startWorkflowOperation: new WithStartWorkflowOperation(TaskEntityWorkflow, {
          workflowId: taskEntityWorkflowId(taskId),
          taskQueue: config.TASK_QUEUE,
          args: [{ task_id: taskId }],
          workflowIdConflictPolicy: 'FAIL',
          staticSummary: `Task entity ${taskId}`,
          typedSearchAttributes: [{ key: TaskIdAttribute, value: taskId }],
        }),
      });
      c.header('Location', `/tasks/${taskId}`);
      return sendTask(c, task, 201);
    })
    .openapi(listTasksRoute, async (c) => {
      const { status, assignee, page_size, page_token } = c.req.valid('query');
      const query = [
        `WorkflowType = 'TaskEntityWorkflow'`,
        `ExecutionStatus = 'Running'`,
        ...(status ? [`${TaskStatusAttribute.name} = '${status}'`] : []),
        ...(assignee ? [`${TaskAssigneeAttribute.name} = '${assignee}'`] : []),
      ].join(' AND ');
      const page = await client.workflowService
        .listWorkflowExecutions({
          namespace: config.TEMPORAL_NAMESPACE,
          query,
          pageSize: page_size,
          nextPageToken: page_token ? decodePageToken(page_token, query) : undefined,
        })
        .catch((err: unknown) => {
          // A token that passed the checksum but that the server still refuses (INVALID_ARGUMENT or UNKNOWN).
          const code = (err as { code?: number }).code;
          if (page_token && (code === 3 || code === 2)) throw invalidPageToken();
          throw err;
        });
      const tasks = (page.executions ?? []).map((execution) => {
        const attributes = decodeTypedSearchAttributes(execution.searchAttributes?.indexedFields);
        const workflowId = execution.execution?.workflowId ?? '';
        return {
          task_id: attributes.get(TaskIdAttribute) ?? workflowId.slice(TASK_ENTITY_PREFIX.length),
          status: (attributes.get(TaskStatusAttribute) as TaskStatus | undefined) ?? null,
          assignee: attributes.get(TaskAssigneeAttribute) ?? null,
          workflow_id: workflowId,
        };
      });
      const next = page.nextPageToken && page.nextPageToken.length > 0 ? encodePageToken(page.nextPageToken, query) : null;
      return c.json({ tasks, next_page_token: next }, 200);
    })
    .openapi(getTaskRoute, async (c) => {
      const task = await readTask(client, c.req.valid('param').task_id);
      if (matchesIfNoneMatch(c.req.header('if-none-match'), task)) {
        c.header('ETag', etagOf(task));
        return c.body(null, 304);
      }
      return sendTask(c, task, 200);
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
      const expected_version = expectedVersion(c.req.header('if-match'));
      const workflowId = taskEntityWorkflowId(task_id);
      const task = await entityUpdates
        .run(workflowId, () => client.workflow.getHandle(workflowId).executeUpdate(updateStatusUpdate, { args: [{ status, expected_version }] }))
        .catch(entityUpdateError);
      return sendTask(c, task, 200);
    })
    .openapi(deleteTaskRoute, async (c) => {
      const { task_id } = c.req.valid('param');
      const workflowId = taskEntityWorkflowId(task_id);
      await entityUpdates.run(workflowId, () => client.workflow.getHandle(workflowId).executeUpdate(deleteTaskUpdate)).catch(entityUpdateError);
      return c.body(null, 204);
    });
}
