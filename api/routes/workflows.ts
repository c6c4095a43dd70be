/**
 * Processing workflow status: GET /workflows/{workflow_id} -> describe + result of a TaskProcessingWorkflow.
 * Only processing workflows are visible here: entity and other workflows answer 404.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WorkflowNotFoundError } from '@temporalio/common';
import { PROCESSING_WORKFLOW_PREFIX, taskIdOfProcessingWorkflow } from '../../common/ids';
import { EntityIdSchema, WorkflowStatusSchema, type TaskProcessingResult } from '../../common/schemas';
import type { AppDeps, AppEnv } from '../app';
import { notFound } from '../errors';
import { errorResponse, invalidInput, json, temporalUnavailable } from './responses';

const ProcessingWorkflowIdSchema = z
  .string()
  .refine((id) => EntityIdSchema.safeParse(taskIdOfProcessingWorkflow(id)).success, {
    message: `must be a processing workflow id: "${PROCESSING_WORKFLOW_PREFIX}" followed by a task id`,
  })
  .meta({ example: 'task-workflow-task-001' });

const getWorkflowRoute = createRoute({
  method: 'get',
  path: '/workflows/{workflow_id}',
  tags: ['workflows'],
  summary: 'Status and result of a processing workflow',
  request: { params: z.object({ workflow_id: ProcessingWorkflowIdSchema }) },
  responses: {
    200: json(WorkflowStatusSchema, 'The workflow'),
    404: errorResponse('No such processing workflow'),
    422: invalidInput,
    503: temporalUnavailable,
  },
});

export function workflowRoutes({ client }: AppDeps) {
  return new OpenAPIHono<AppEnv>().openapi(getWorkflowRoute, async (c) => {
    const { workflow_id } = c.req.valid('param');
    const handle = client.workflow.getHandle(workflow_id);
    const description = await handle.describe().catch((err: unknown) => {
      throw err instanceof WorkflowNotFoundError ? notFound('Workflow not found') : err;
    });
    if (description.type !== 'TaskProcessingWorkflow') throw notFound('Workflow not found');
    const status = description.status.name;
    const output = status === 'COMPLETED' ? ((await handle.result()) as TaskProcessingResult) : null;
    return c.json({ workflow_id, status, output }, 200);
  });
}
