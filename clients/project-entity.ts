/**
 * The one client of project entities (entities/project/workflow.ts): the API's routes, the agent's tools
 * and the activities reach a project through it. Creation is update-with-start; every update is sent again
 * while the entity is between runs (`not_applied`); failures come as EntityError kinds.
 */
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, type Client, type WorkflowHandle } from '@temporalio/client';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import type { Project, ProjectView } from '../common/schemas';
import { PROJECT_ENTITY_PREFIX, projectEntityWorkflowId } from '../workflows/shared/ids';
import { ProjectIdAttribute } from '../workflows/shared/search-attributes';
import {
  PROJECT_ENTITY_WORKFLOW_TYPE,
  addTasksUpdate,
  createProjectUpdate,
  deleteProjectUpdate,
  getProjectQuery,
  removeTasksUpdate,
  taskChangedSignal,
  updateProjectUpdate,
  type CreateProjectInput,
  type GetProjectInput,
  type ProjectEntityWorkflowSignature,
  type TaskNotice,
  type UpdateProjectInput,
} from '../entities/project/messages';
import { entityFailure, rethrowAsEntityError, retryUntilApplied } from './errors';
import { equals } from './visibility-query';

export interface ProjectCallOptions {
  /** The same id on every retry of one change (an activity's), so it applies once; default: a new one. */
  updateId?: string;
  signal?: AbortSignal;
  /** Who makes the change (`updated_by`). */
  updatedBy?: string;
}

const READ_TIMEOUT_MS = 5_000;
const NOT_APPLIED_RETRY_MS = 15_000;

/** The visibility query of GET /projects: open project entities that hold a project. */
export const projectListQuery = (): string =>
  [equals('WorkflowType', PROJECT_ENTITY_WORKFLOW_TYPE), equals('ExecutionStatus', 'Running'), `${ProjectIdAttribute.name} IS NOT NULL`].join(' AND ');

export class ProjectEntityClient {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /** Creates the project, starting its entity; the same project again changes nothing (it adds the task ids named). */
  create(projectId: string, input: CreateProjectInput, options: ProjectCallOptions = {}): Promise<Project> {
    return this.call(projectId, options, (updateId) =>
      this.client.workflow.executeUpdateWithStart(createProjectUpdate, {
        args: [{ ...input, ...by(options) }],
        updateId,
        startWorkflowOperation: new WithStartWorkflowOperation<ProjectEntityWorkflowSignature>(PROJECT_ENTITY_WORKFLOW_TYPE, {
          workflowId: projectEntityWorkflowId(projectId),
          taskQueue: this.taskQueue,
          args: [{ project_id: projectId }],
          workflowIdConflictPolicy: 'USE_EXISTING',
          staticSummary: `Project entity ${projectId}`,
          typedSearchAttributes: [{ key: ProjectIdAttribute, value: projectId }],
        }),
      }),
    );
  }

  /** The project with its roll-up and a page of its tasks; null when there is none. */
  async get(projectId: string, page: GetProjectInput = {}, { timeoutMs = READ_TIMEOUT_MS } = {}): Promise<ProjectView | null> {
    try {
      return await this.client.withDeadline(Date.now() + timeoutMs, () => this.handle(projectId).query(getProjectQuery, page));
    } catch (err) {
      const failure = entityFailure(err, `Project ${projectId}`);
      if (failure?.kind === 'not_found') return null;
      throw failure ?? err;
    }
  }

  update(projectId: string, input: UpdateProjectInput, options: ProjectCallOptions = {}): Promise<Project> {
    return this.call(projectId, options, (updateId) => this.handle(projectId).executeUpdate(updateProjectUpdate, { args: [{ ...input, ...by(options) }], updateId }));
  }

  addTasks(projectId: string, taskIds: string[], options: ProjectCallOptions = {}): Promise<Project> {
    return this.call(projectId, options, (updateId) => this.handle(projectId).executeUpdate(addTasksUpdate, { args: [{ task_ids: taskIds, ...by(options) }], updateId }));
  }

  removeTasks(projectId: string, taskIds: string[], options: ProjectCallOptions = {}): Promise<Project> {
    return this.call(projectId, options, (updateId) =>
      this.handle(projectId).executeUpdate(removeTasksUpdate, { args: [{ task_ids: taskIds, ...by(options) }], updateId }),
    );
  }

  /** Deletes the project; its tasks stay and are detached from it (entities/project/workflow.ts). */
  delete(projectId: string, options: ProjectCallOptions & { expectedVersion?: number } = {}): Promise<void> {
    const expected = options.expectedVersion !== undefined ? { expected_version: options.expectedVersion } : {};
    return this.call(projectId, options, (updateId) => this.handle(projectId).executeUpdate(deleteProjectUpdate, { args: [{ ...expected, ...by(options) }], updateId }));
  }

  /** A task's notice (the task entity's project lane). False when the project is gone: there is nobody left to tell. */
  async tell(notice: TaskNotice, { signal }: { signal?: AbortSignal } = {}): Promise<boolean> {
    const send = () => this.handle(notice.project_id).signal(taskChangedSignal, notice);
    try {
      await (signal ? this.client.withAbortSignal(signal, send) : send());
      return true;
    } catch (err) {
      if (entityFailure(err, `Project ${notice.project_id}`)?.kind === 'not_found') return false;
      rethrowAsEntityError(err, `Project ${notice.project_id}`);
    }
  }

  /** A page of projects from Temporal's visibility (eventually consistent). */
  async list({ pageSize, pageToken }: { pageSize: number; pageToken?: Uint8Array }): Promise<{ projects: { project_id: string; workflow_id: string }[]; nextPageToken: Uint8Array | null }> {
    const page = await this.client.workflowService.listWorkflowExecutions({
      namespace: this.client.options.namespace,
      query: projectListQuery(),
      pageSize,
      nextPageToken: pageToken,
    });
    const projects = (page.executions ?? []).map((execution) => {
      const workflowId = execution.execution?.workflowId ?? '';
      const attributes = decodeTypedSearchAttributes(execution.searchAttributes?.indexedFields);
      return { project_id: attributes.get(ProjectIdAttribute) ?? workflowId.slice(PROJECT_ENTITY_PREFIX.length), workflow_id: workflowId };
    });
    return { projects, nextPageToken: page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : null };
  }

  private handle(projectId: string): WorkflowHandle<ProjectEntityWorkflowSignature> {
    return this.client.workflow.getHandle(projectEntityWorkflowId(projectId));
  }

  private call<T>(projectId: string, { updateId = randomUUID(), signal }: ProjectCallOptions, send: (updateId: string) => Promise<T>): Promise<T> {
    const what = `Project ${projectId}`;
    const attempt = async () => {
      try {
        return await (signal ? this.client.withAbortSignal(signal, () => send(updateId)) : send(updateId));
      } catch (err) {
        rethrowAsEntityError(err, what);
      }
    };
    return retryUntilApplied(attempt, what, NOT_APPLIED_RETRY_MS, signal);
  }
}

const by = (options: ProjectCallOptions) => (options.updatedBy === undefined ? {} : { updated_by: options.updatedBy });
