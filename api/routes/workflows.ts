/**
 * Processing workflow status: GET /workflows/{workflow_id} -> describe + result of a TaskProcessingWorkflow.
 * Only processing workflows are visible here: entity and other workflows answer 404.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { temporalUiLink } from '../../common/config';
import { PROCESSING_WORKFLOW_PREFIX, taskIdOfProcessingWorkflow } from '../../workflows/shared/ids';
import { EntityIdSchema, WorkflowStatusSchema } from '../../common/schemas';
import type { AppEnv, RouteDeps } from '../deps';
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

export function workflowRoutes({ processing, config }: RouteDeps) {
  return new OpenAPIHono<AppEnv>().openapi(getWorkflowRoute, async (c) => {
    const { workflow_id } = c.req.valid('param');
    const run = await processing.status(workflow_id);
    if (run === null) throw notFound('Workflow not found');
    return c.json({ workflow_id, run_id: run.runId, status: run.status, output: run.output, ui_url: temporalUiLink(config, workflow_id, run.runId) }, 200);
  });
}
