/**
 * Projects as a resource, each one a ProjectEntityWorkflow (entities/project/workflow.ts) reached through
 * its client (clients/project-entity.ts); setting one up is a ProjectSetupWorkflow (workflows/project-setup.ts):
 *   POST   /projects/process                    -> start ProjectSetupWorkflow (project + initial tasks as children)
 *   GET    /projects                            -> Temporal visibility over the ProjectId search attribute
 *   GET    /projects/{project_id}/setup         -> the setup workflow's status and result
 *   GET    /projects/{project_id}               -> getProject query: the project, its roll-up, a page of its tasks
 *   PATCH  /projects/{project_id}               -> updateProject update (owner or admin; If-Match)
 *   DELETE /projects/{project_id}               -> deleteProject update (owner or admin; its tasks stay, detached)
 *   POST   /projects/{project_id}/tasks         -> add existing tasks (addTasks, then each task's setProject)
 *   DELETE /projects/{project_id}/tasks/{task_id} -> take a task out (removeTasks, then its setProject(null))
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { EntityError } from '../../clients/errors';
import { projectListQuery } from '../../clients/project-entity';
import { temporalUiLink } from '../../common/config';
import {
  AddProjectTasksRequestSchema,
  ProjectIdSchema,
  ProjectListQuerySchema,
  ProjectListSchema,
  ProjectQuerySchema,
  ProjectSchema,
  ProjectSetupAcceptedSchema,
  ProjectSetupRequestSchema,
  ProjectSetupStatusSchema,
  ProjectViewSchema,
  TaskIdSchema,
  UpdateProjectRequestSchema,
  type Project,
} from '../../common/schemas';
import { whyNotChangeProject, whyNotOwn } from '../../workflows/shared/access-policy';
import { projectEntityWorkflowId, taskEntityWorkflowId } from '../../workflows/shared/ids';
import { actorOf, principalOf } from '../access';
import type { AppEnv, RouteDeps } from '../deps';
import { etagOf, expectedVersion } from '../etag';
import { ApiError, notFound } from '../errors';
import { decodePageToken, encodePageToken, invalidPageToken } from '../page-token';
import { entityBusy, errorResponse, invalidInput, json, temporalUnavailable } from './responses';

const params = z.object({ project_id: ProjectIdSchema });
const withEtag = <S extends z.ZodType>(schema: S, description: string) => ({
  ...json(schema, description),
  headers: z.object({ ETag: z.string().meta({ description: 'The project version, for If-Match', example: '"2-mgx2k9ab"' }) }),
});
const forbidden = errorResponse('Only the project’s owner or an admin changes it');
const noProject = errorResponse('No such project');

const setupRoute = createRoute({
  method: 'post',
  path: '/projects/process',
  tags: ['projects'],
  summary: 'Set up a project with its initial tasks (ProjectSetupWorkflow; each task a child TaskProcessingWorkflow)',
  request: { body: { required: true, content: { 'application/json': { schema: ProjectSetupRequestSchema } } } },
  responses: {
    200: json(ProjectSetupAcceptedSchema, 'The setup workflow started; GET /workflows/{workflow_id} has its result'),
    403: errorResponse('Only an admin sets up a project owned by someone else'),
    409: errorResponse('The project, or one of the tasks, exists already, or a setup of it is running'),
    422: invalidInput,
    503: temporalUnavailable,
  },
});

const setupStatusRoute = createRoute({
  method: 'get',
  path: '/projects/{project_id}/setup',
  tags: ['projects'],
  summary: 'Status and result of the project’s setup workflow',
  request: { params },
  responses: { 200: json(ProjectSetupStatusSchema, 'The setup'), 404: errorResponse('No setup of this project'), 422: invalidInput, 503: temporalUnavailable },
});

const listRoute = createRoute({
  method: 'get',
  path: '/projects',
  tags: ['projects'],
  summary: 'List projects, a page at a time (Temporal visibility; eventually consistent)',
  request: { query: ProjectListQuerySchema },
  responses: { 200: json(ProjectListSchema, 'A page of projects'), 422: invalidInput, 503: temporalUnavailable },
});

const getRoute = createRoute({
  method: 'get',
  path: '/projects/{project_id}',
  tags: ['projects'],
  summary: 'The project, its live roll-up and a page of its tasks',
  request: { params, query: ProjectQuerySchema },
  responses: { 200: withEtag(ProjectViewSchema, 'The project'), 404: noProject, 422: invalidInput, 503: temporalUnavailable },
});

const updateRoute = createRoute({
  method: 'patch',
  path: '/projects/{project_id}',
  tags: ['projects'],
  summary: 'Change the name, description or owner; conditional when If-Match is given',
  request: { params, body: { required: true, content: { 'application/json': { schema: UpdateProjectRequestSchema } } } },
  responses: {
    200: withEtag(ProjectSchema, 'The project after the change'),
    403: forbidden,
    404: noProject,
    412: errorResponse('If-Match no longer matches: the project changed'),
    422: invalidInput,
    429: entityBusy,
    503: temporalUnavailable,
  },
});

const deleteRoute = createRoute({
  method: 'delete',
  path: '/projects/{project_id}',
  tags: ['projects'],
  summary: 'Delete a project. Its tasks are not deleted: they stay as they are, detached from it (their project_id is cleared shortly after)',
  request: { params },
  responses: { 204: { description: 'Deleted' }, 403: forbidden, 404: noProject, 412: errorResponse('If-Match no longer matches'), 422: invalidInput, 429: entityBusy, 503: temporalUnavailable },
});

const addTasksRoute = createRoute({
  method: 'post',
  path: '/projects/{project_id}/tasks',
  tags: ['projects'],
  summary: 'Add existing tasks to the project (a task in another project moves; that needs the right to change both)',
  request: { params, body: { required: true, content: { 'application/json': { schema: AddProjectTasksRequestSchema } } } },
  responses: {
    200: json(ProjectViewSchema, 'The project; the roll-up counts the tasks as they report, within moments'),
    403: forbidden,
    404: errorResponse('No such project, or no such task (named in the detail); nothing was added'),
    409: errorResponse('The project would pass its limit of tasks'),
    422: invalidInput,
    503: temporalUnavailable,
  },
});

const removeTaskRoute = createRoute({
  method: 'delete',
  path: '/projects/{project_id}/tasks/{task_id}',
  tags: ['projects'],
  summary: 'Take a task out of the project (the task stays)',
  request: { params: z.object({ project_id: ProjectIdSchema, task_id: TaskIdSchema }) },
  responses: { 204: { description: 'Taken out (or was not in it)' }, 403: forbidden, 404: noProject, 422: invalidInput, 503: temporalUnavailable },
});

function sendProject<S extends 200>(c: Context<AppEnv>, project: Project, body: unknown, status: S) {
  c.header('ETag', etagOf(project));
  return c.json(body as never, status);
}

export function projectRoutes({ projects, projectSetups, tasks, entityUpdates, config }: RouteDeps) {
  /** The project, when the caller may change it: 404 when there is none, 403 when they may not. */
  const changeable = async (c: Context<AppEnv>, projectId: string) => {
    const project = await projects.get(projectId, { tasks_limit: 0 });
    if (project === null) throw notFound('Project not found');
    const why = whyNotChangeProject(actorOf(c), project);
    if (why) throw new ApiError(403, `Forbidden: ${why}`);
    return project;
  };
  const notFoundAs404 = (err: unknown): never => {
    if (err instanceof EntityError && err.kind === 'not_found') throw notFound('Project not found');
    throw err;
  };

  return new OpenAPIHono<AppEnv>()
    .openapi(setupRoute, async (c) => {
      const input = c.req.valid('json');
      const principal = principalOf(c);
      const owner = input.owner ?? principal.email ?? principal.subject;
      const why = whyNotOwn(actorOf(c), owner);
      if (why) throw new ApiError(403, `Forbidden: ${why}`);
      // Early answers for what the workflow would refuse (it checks again: a CLI start comes without these).
      if ((await projects.get(input.project_id, { tasks_limit: 0 })) !== null) throw new ApiError(409, `Project ${input.project_id} already exists`);
      const existing = (await Promise.all(input.tasks.map(async (t) => ((await tasks.get(t.task_id)) !== null ? t.task_id : undefined)))).filter(Boolean);
      if (existing.length > 0) throw new ApiError(409, `Tasks already exist: ${existing.join(', ')}; a setup creates new tasks only (add existing ones with POST /projects/{project_id}/tasks)`);
      const duplicate = input.tasks.findIndex((t, i) => input.tasks.findIndex((u) => u.task_id === t.task_id) !== i);
      if (duplicate >= 0) throw new ApiError(422, 'Request validation failed', [{ field: `tasks.${duplicate}.task_id`, message: 'names a task listed before' }]);
      const { workflowId, runId } = await projectSetups.start({ ...input, owner }, { updatedBy: principal.subject });
      return c.json(
        { workflow_id: workflowId, run_id: runId, project_id: input.project_id, status: 'started' as const, ui_url: temporalUiLink(config, workflowId, runId) },
        200,
      );
    })
    .openapi(setupStatusRoute, async (c) => {
      const run = await projectSetups.status(c.req.valid('param').project_id);
      if (run === null) throw notFound('No setup of this project');
      return c.json({ workflow_id: run.workflowId, run_id: run.runId, status: run.status, output: run.output, ui_url: temporalUiLink(config, run.workflowId, run.runId) }, 200);
    })
    .openapi(listRoute, async (c) => {
      const { page_size, page_token } = c.req.valid('query');
      const query = projectListQuery();
      const page = await projects.list({ pageSize: page_size, pageToken: page_token ? decodePageToken(page_token, query) : undefined }).catch((err: unknown) => {
        const code = (err as { code?: number }).code;
        if (page_token && (code === 3 || code === 2)) throw invalidPageToken();
        throw err;
      });
      return c.json({ projects: page.projects, next_page_token: page.nextPageToken ? encodePageToken(page.nextPageToken, query) : null }, 200);
    })
    .openapi(getRoute, async (c) => {
      const { tasks_offset, tasks_limit, status } = c.req.valid('query');
      const view = await projects.get(c.req.valid('param').project_id, { tasks_offset, tasks_limit, ...(status ? { status } : {}) });
      if (view === null) throw notFound('Project not found');
      return sendProject(c, view, view, 200);
    })
    .openapi(updateRoute, async (c) => {
      const { project_id } = c.req.valid('param');
      const changes = c.req.valid('json');
      const precondition = expectedVersion(c.req.header('if-match'));
      const current = await changeable(c, project_id);
      if (precondition && precondition.created_at !== current.created_at) throw new ApiError(412, 'Precondition failed: the project was deleted and created again since');
      if (changes.owner !== undefined && !actorOf(c).admin) {
        // Handing a project over is the owner's to do; they may not take one they cannot change afterwards by mistake.
        const why = whyNotOwn(actorOf(c), changes.owner);
        if (why) throw new ApiError(403, `Forbidden: only an admin gives a project to someone else (${current.owner} owns ${project_id})`);
      }
      const project = await entityUpdates
        .run(projectEntityWorkflowId(project_id), () =>
          projects.update(project_id, { ...changes, expected_version: precondition?.version ?? current.version }, { updatedBy: principalOf(c).subject }),
        )
        .catch(notFoundAs404);
      return sendProject(c, project, project, 200);
    })
    .openapi(deleteRoute, async (c) => {
      const { project_id } = c.req.valid('param');
      const precondition = expectedVersion(c.req.header('if-match'));
      const current = await changeable(c, project_id);
      if (precondition && precondition.created_at !== current.created_at) throw new ApiError(412, 'Precondition failed: the project was deleted and created again since');
      await entityUpdates
        .run(projectEntityWorkflowId(project_id), () => projects.delete(project_id, { expectedVersion: precondition?.version, updatedBy: principalOf(c).subject }))
        .catch(notFoundAs404);
      return c.body(null, 204);
    })
    .openapi(addTasksRoute, async (c) => {
      const { project_id } = c.req.valid('param');
      const taskIds = [...new Set(c.req.valid('json').task_ids)];
      await changeable(c, project_id);
      const found = await Promise.all(taskIds.map((id) => tasks.get(id)));
      const missing = taskIds.filter((_, i) => found[i] === null);
      if (missing.length > 0) throw notFound(`Task not found: ${missing.join(', ')}`);
      // A task moving from another project: the caller must be able to change that one too.
      for (const from of new Set(found.map((t) => t?.project_id).filter((p): p is string => p !== undefined && p !== project_id))) {
        const other = await projects.get(from, { tasks_limit: 0 });
        const why = other === null ? undefined : whyNotChangeProject(actorOf(c), other);
        if (why) throw new ApiError(403, `Forbidden: ${why}`);
      }
      const by = { updatedBy: principalOf(c).subject };
      // The project takes them first (it says who belongs, and refuses past its limit); then each task learns
      // its project and tells it how it stands.
      await entityUpdates.run(projectEntityWorkflowId(project_id), () => projects.addTasks(project_id, taskIds, by)).catch(notFoundAs404);
      await Promise.all(
        taskIds.map((id) =>
          entityUpdates.run(taskEntityWorkflowId(id), () => tasks.setProject(id, project_id, by)).catch((err: unknown) => {
            if (err instanceof EntityError && err.kind === 'not_found') return projects.removeTasks(project_id, [id], by);
            throw err;
          }),
        ),
      );
      const view = await projects.get(project_id);
      if (view === null) throw notFound('Project not found');
      return c.json(view, 200);
    })
    .openapi(removeTaskRoute, async (c) => {
      const { project_id, task_id } = c.req.valid('param');
      await changeable(c, project_id);
      const by = { updatedBy: principalOf(c).subject };
      await entityUpdates.run(projectEntityWorkflowId(project_id), () => projects.removeTasks(project_id, [task_id], by)).catch(notFoundAs404);
      await entityUpdates.run(taskEntityWorkflowId(task_id), () => tasks.setProject(task_id, null, { ...by, expectedProjectId: project_id })).catch((err: unknown) => {
        // Gone, or in another project by now: nothing of this project's to clear.
        if (err instanceof EntityError && (err.kind === 'not_found' || err.kind === 'version_conflict')) return;
        throw err;
      });
      return c.body(null, 204);
    });
}
