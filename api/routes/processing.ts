/**
 * Task processing: POST /tasks/process starts a TaskProcessingWorkflow (workflows/task-processing.ts)
 * through its client (clients/processing.ts).
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { temporalUiLink } from '../../common/config';
import { ProcessTaskAcceptedSchema, ProcessTaskRequestSchema } from '../../common/schemas';
import { principalOf } from '../access';
import type { AppEnv, RouteDeps } from '../deps';
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

export function processingRoutes({ processing, config }: RouteDeps) {
  return new OpenAPIHono<AppEnv>().openapi(processTaskRoute, async (c) => {
    // A run already open for the task is `refused`: 409.
    const { workflowId, runId } = await processing.start(c.req.valid('json'), { updatedBy: principalOf(c).subject });
    return c.json({ workflow_id: workflowId, run_id: runId, status: 'started' as const, ui_url: temporalUiLink(config, workflowId, runId) }, 200);
  });
}
