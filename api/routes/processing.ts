/**
 * Task processing: POST /tasks/process starts a TaskProcessingWorkflow (workflows/task-processing.ts).
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { processingWorkflowId } from '../../common/ids';
import { ProcessTaskAcceptedSchema, ProcessTaskRequestSchema } from '../../common/schemas';
import { TaskAssigneeAttribute, TaskIdAttribute } from '../../common/search-attributes';
import { TaskProcessingWorkflow } from '../../workflows/task-processing';
import type { AppDeps, AppEnv } from '../app';
import { ApiError } from '../errors';
import { errorResponse, invalidInput, json, temporalUnavailable } from './responses';

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

export function processingRoutes({ client, config }: AppDeps) {
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
    });
}
