/**
 * Task processing: POST /tasks/process starts a TaskProcessingWorkflow (workflows/task-processing.ts)
 * through its client (clients/processing.ts).
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { temporalUiLink } from '../../common/config';
import { ProcessTaskAcceptedSchema, ProcessTaskRequestSchema } from '../../common/schemas';
import { whyNotChangeProject } from '../../workflows/shared/access-policy';
import { actorOf, principalOf } from '../access';
import { ApiError, notFound } from '../errors';
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
    403: errorResponse('The task is for a project the caller may not change'),
    404: errorResponse('No such project (`project_id`)'),
    409: errorResponse('A processing workflow for this task is still running'),
    422: invalidInput,
    503: temporalUnavailable,
  },
});

export function processingRoutes({ processing, projects, config }: RouteDeps) {
  return new OpenAPIHono<AppEnv>().openapi(processTaskRoute, async (c) => {
    const input = c.req.valid('json');
    if (input.project_id !== undefined) {
      // A task for a project is the project's owner's (or an admin's) to add; the run adds it (workflows/task-processing.ts).
      const project = await projects.get(input.project_id, { tasks_limit: 0 });
      if (project === null) throw notFound(`Project ${input.project_id} not found`);
      const why = whyNotChangeProject(actorOf(c), project);
      if (why) throw new ApiError(403, `Forbidden: ${why}`);
    }
    // A run already open for the task is `refused`: 409.
    const { workflowId, runId } = await processing.start(input, { updatedBy: principalOf(c).subject });
    return c.json({ workflow_id: workflowId, run_id: runId, status: 'started' as const, ui_url: temporalUiLink(config, workflowId, runId) }, 200);
  });
}
