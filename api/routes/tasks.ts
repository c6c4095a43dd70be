/**
 * Tasks: start a TaskProcessingWorkflow, read a task entity.
 *   POST /tasks/process  -> TaskProcessingWorkflow (workflows/task-processing.ts)
 *   GET  /tasks/{task_id} -> TaskEntityWorkflow's getTask query (entities/task/workflow.ts)
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { processingWorkflowId, taskEntityWorkflowId } from '../../common/ids';
import {
  ProcessTaskAcceptedSchema,
  ProcessTaskRequestSchema,
  TaskIdSchema,
  TaskSchema,
} from '../../common/schemas';
import { TaskAssigneeAttribute, TaskIdAttribute } from '../../common/search-attributes';
import { getTaskQuery } from '../../entities/task/messages';
import { TaskProcessingWorkflow } from '../../workflows/task-processing';
import type { AppDeps, AppEnv } from '../app';
import { ApiError, notFound } from '../errors';
import { errorResponse, invalidInput, json, temporalUnavailable } from './responses';

/** How long a read waits for the entity's worker before answering 503. */
const QUERY_TIMEOUT_MS = 5_000;

const processTaskRoute = createRoute({
  method: 'post',
  path: '/tasks/process',
  tags: ['tasks'],
  summary: 'Start processing a task (TaskProcessingWorkflow)',
  request: { body: { required: true, content: { 'application/json': { schema: ProcessTaskRequestSchema } } } },
  responses: {
    200: json(ProcessTaskAcceptedSchema, 'The processing workflow started'),
    409: errorResponse('A processing workflow for this task is still running'),
    422: invalidInput,
    503: temporalUnavailable,
  },
});

const getTaskRoute = createRoute({
  method: 'get',
  path: '/tasks/{task_id}',
  tags: ['tasks'],
  summary: 'Read a task from its entity',
  request: { params: z.object({ task_id: TaskIdSchema }) },
  responses: {
    200: json(TaskSchema, 'The task'),
    404: errorResponse('No such task'),
    422: invalidInput,
    503: temporalUnavailable,
  },
});

export function taskRoutes({ client, config }: AppDeps) {
  return new OpenAPIHono<AppEnv>()
    .openapi(processTaskRoute, async (c) => {
      const input = c.req.valid('json');
      const workflowId = processingWorkflowId(input.task_id);
      try {
        await client.workflow.start(TaskProcessingWorkflow, {
          workflowId,
          taskQueue: config.TASK_QUEUE,
          args: [input],
          // Only one processing run per task at a time; a closed run may be followed by a new one.
          workflowIdConflictPolicy: 'FAIL',
          staticSummary: `Process task ${input.task_id} for ${input.assignee}`,
          typedSearchAttributes: [
            { key: TaskIdAttribute, value: input.task_id },
            { key: TaskAssigneeAttribute, value: input.assignee },
          ],
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          throw new ApiError(409, `Task ${input.task_id} is already being processed by workflow ${workflowId}`);
        }
        throw err;
      }
      return c.json({ workflow_id: workflowId, status: 'started' as const }, 200);
    })
    .openapi(getTaskRoute, async (c) => {
      const { task_id } = c.req.valid('param');
      const entity = client.workflow.getHandle(taskEntityWorkflowId(task_id));
      try {
        const task = await client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => entity.query(getTaskQuery));
        if (task === null) throw notFound('Task not found');
        return c.json(task, 200);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw notFound('Task not found');
        throw err;
      }
    });
}
