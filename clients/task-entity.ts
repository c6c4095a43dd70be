/**
 * The one client of task entities (entities/task/workflow.ts): the API's routes and the activities reach a
 * task through it. It knows the entity's workflow id, starts it with the creating update (update-with-
 * start), carries update ids (a caller that retries with the same id applies its change once), and fails
 * with EntityError kinds instead of Temporal's errors.
 */
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, type Client, type WorkflowHandle } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { TASK_ENTITY_PREFIX, taskEntityWorkflowId } from '../workflows/shared/ids';
import type { CreateTaskInput, HandOverTaskInput, Task, TaskStatus, TaskSummary, UpdateStatusInput } from '../common/schemas';
import { TaskAssigneeAttribute, TaskIdAttribute, TaskStatusAttribute } from '../workflows/shared/search-attributes';
import {
  TASK_ENTITY_WORKFLOW_TYPE,
  assignTaskUpdate,
  createTaskUpdate,
  deleteTaskUpdate,
  getTaskQuery,
  getTaskHistoryQuery,
  handOverTaskUpdate,
  revertChangesUpdate,
  setDeadlineUpdate,
  setProjectUpdate,
  unassignTaskUpdate,
  updateStatusUpdate,
  type HandOverResult,
  type StartingUpdate,
  type TaskEntityWorkflowSignature,
} from '../entities/task/messages';
import { entityFailure, rethrowAsEntityError, retryUntilApplied } from './errors';
import { keyedUpdateId } from './idempotency';
import type { TaskChange } from '../entities/task/update-log';
import { equals, equalsAsServed } from './visibility-query';
import type { KeyedRequest } from '../entities/idempotency';

export interface CallOptions {
  /** The update's id: the same id on every retry of one change, so it applies once. Default: a new id per call. */
  updateId?: string;
  /** Gives up the call when aborted (an activity being cancelled). */
  signal?: AbortSignal;
  /** Who makes the change, recorded as the task's `updated_by` (see Attributed); unset: `cli`. */
  updatedBy?: string;
}

const by = (options: CallOptions) => (options.updatedBy === undefined ? {} : { updated_by: options.updatedBy });

export interface TaskFilters {
  status?: TaskStatus;
  /** Whoever the tasks are assigned to, as written (any text: it is quoted by clients/visibility-query.ts). */
  assignee?: string;
}

/** The visibility query of a listing: open entities that hold a task, by status and assignee. */
export function taskListQuery({ status, assignee }: TaskFilters): string {
  const byAssignee = assignee !== undefined ? equalsAsServed(TaskAssigneeAttribute.name, assignee).condition : undefined;
  return [
    equals('WorkflowType', TASK_ENTITY_WORKFLOW_TYPE),
    equals('ExecutionStatus', 'Running'),
    // An entity that holds no task (deleted, publishing its last events) has no status.
    `${TaskStatusAttribute.name} IS NOT NULL`,
    ...(status !== undefined ? [equals(TaskStatusAttribute.name, status)] : []),
    ...(byAssignee !== undefined ? [byAssignee] : []),
  ].join(' AND ');
}

/** How long a read waits for the entity's worker before it counts as unavailable. */
const READ_TIMEOUT_MS = 5_000;
/**
 * How long an update is sent again while it does not apply (the entity's run ending: a task just deleted,
 * or continuing as new; or its workflow task interrupted).
 */
const NOT_APPLIED_RETRY_MS = 15_000;

export class TaskEntityClient {
  constructor(
    private readonly client: Client,
    /** Where new entities run. */
    private readonly taskQueue: string,
  ) {}

  /**
   * Creates the task, starting its entity if none runs. `ifExists: 'reuse'` (processing) takes a running
   * entity as it is: the same task again changes nothing, a different one is refused. `'fail'` (a new id
   * chosen by the service) refuses an id that is in use.
   */
  create(taskId: string, input: CreateTaskInput, options: CallOptions & { ifExists?: 'reuse' | 'fail'; keyed?: KeyedRequest } = {}): Promise<Task> {
    const { keyed } = options;
    // A task deleted a moment ago: its run refuses and ends at once; sent again, this starts a fresh one.
    return this.call(taskId, keyed ? { ...options, updateId: keyedUpdateId(keyed) } : options, (updateId) => {
      const update = { ...input, ...by(options), ...(keyed ? { idempotency: keyed } : {}) };
      return this.client.workflow.executeUpdateWithStart(createTaskUpdate, {
        args: [update],
        updateId,
        startWorkflowOperation: this.startOperation(taskId, { name: 'createTask', update_id: updateId, input: update }, options.ifExists === 'fail' ? 'FAIL' : 'USE_EXISTING'),
      });
    });
  }

  /**
   * Starts the entity with the update it is started by as its input as well: a new run creates the task as it
   * starts and publishes its events at once (entities/task/workflow.ts applyStartingUpdate). A running entity
   * ignores the start and takes the update.
   */
  private startOperation(taskId: string, startingUpdate: StartingUpdate, conflictPolicy: 'FAIL' | 'USE_EXISTING') {
    return new WithStartWorkflowOperation<TaskEntityWorkflowSignature>(TASK_ENTITY_WORKFLOW_TYPE, {
      workflowId: taskEntityWorkflowId(taskId),
      taskQueue: this.taskQueue,
      args: [{ task_id: taskId, starting_update: startingUpdate }],
      workflowIdConflictPolicy: conflictPolicy,
      staticSummary: `Task entity ${taskId}`,
      typedSearchAttributes: [{ key: TaskIdAttribute, value: taskId }],
    });
  }

  /**
   * A processing run's hand-over in one update (started with the entity when there is none): create, assign,
   * set the deadline, each under its own update id (entities/task/messages.ts handOverTaskUpdate). Answers
   * with the task and, when the rules refused a step, which one and why.
   */
  handOver(taskId: string, input: HandOverTaskInput, options: CallOptions = {}): Promise<HandOverResult> {
    return this.call(taskId, options, (updateId) => {
      const update = { ...input, ...by(options) };
      return this.client.workflow.executeUpdateWithStart(handOverTaskUpdate, {
        args: [update],
        updateId,
        startWorkflowOperation: this.startOperation(taskId, { name: 'handOverTask', update_id: updateId, input: update }, 'USE_EXISTING'),
      });
    });
  }

  /** The task, or null when there is none. */
  get(taskId: string, options: { timeoutMs?: number } = {}): Promise<Task | null> {
    return this.read(taskId, getTaskQuery, options);
  }

  /** The task's changes, newest first; null when there is no task. */
  history(taskId: string, options: { timeoutMs?: number } = {}): Promise<TaskChange[] | null> {
    return this.read(taskId, getTaskHistoryQuery, options);
  }

  /** A query of the task's entity, bounded in time; null when there is no entity. */
  private async read<T>(taskId: string, query: QueryDefinition<T | null, []>, { timeoutMs = READ_TIMEOUT_MS }: { timeoutMs?: number }): Promise<T | null> {
    try {
      return await this.client.withDeadline(Date.now() + timeoutMs, () => this.handle(taskId).query(query));
    } catch (err) {
      const failure = entityFailure(err, `Task ${taskId}`);
      if (failure?.kind === 'not_found') return null;
      throw failure ?? err;
    }
  }

  /**
   * A page of tasks from Temporal's visibility (eventually consistent: a change shows a moment after
   * `get` sees it). Raw gRPC errors come through, so callers can tell a refused page token. An assignee the
   * server cannot match exactly (clients/visibility-query.ts) is matched here, so a page may hold fewer
   * tasks than asked for and still have a next one.
   */
  async list(filters: TaskFilters, { pageSize, pageToken }: { pageSize: number; pageToken?: Uint8Array }): Promise<{ tasks: TaskSummary[]; nextPageToken: Uint8Array | null }> {
    const page = await this.client.workflowService.listWorkflowExecutions({
      namespace: this.client.options.namespace,
      query: taskListQuery(filters),
      pageSize,
      nextPageToken: pageToken,
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
    const exactly = filters.assignee !== undefined && equalsAsServed(TaskAssigneeAttribute.name, filters.assignee).exactly;
    return {
      tasks: exactly ? tasks.filter((task) => task.assignee === filters.assignee) : tasks,
      nextPageToken: page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : null,
    };
  }

  assign(taskId: string, assignee: string, options: CallOptions & { expectedVersion?: number } = {}): Promise<Task> {
    return this.call(taskId, options, (updateId) =>
      this.handle(taskId).executeUpdate(assignTaskUpdate, { args: [{ assignee, expected_version: options.expectedVersion, ...by(options) }], updateId }),
    );
  }

  /** Clears the assignee, back to `pending` (the compensation of runs recorded before revertChanges). */
  unassign(taskId: string, options: CallOptions = {}): Promise<Task> {
    return this.call(taskId, options, (updateId) => this.handle(taskId).executeUpdate(unassignTaskUpdate, { updateId }));
  }

  updateStatus(taskId: string, input: UpdateStatusInput, options: CallOptions = {}): Promise<Task> {
    return this.call(taskId, options, (updateId) => this.handle(taskId).executeUpdate(updateStatusUpdate, { args: [{ ...input, ...by(options) }], updateId }));
  }

  setDeadline(taskId: string, deadlineSeconds: number, options: CallOptions & { expectedVersion?: number } = {}): Promise<Task> {
    return this.call(taskId, options, (updateId) =>
      this.handle(taskId).executeUpdate(setDeadlineUpdate, {
        args: [{ deadline_seconds: deadlineSeconds, expected_version: options.expectedVersion, ...by(options) }],
        updateId,
      }),
    );
  }

  /** Puts back what the updates with ids starting `changesBy` changed; `version_conflict` when the task moved on since. */
  revertChanges(taskId: string, changesBy: string, options: CallOptions = {}): Promise<Task> {
    return this.call(taskId, options, (updateId) =>
      this.handle(taskId).executeUpdate(revertChangesUpdate, { args: [{ changes_by: changesBy, ...by(options) }], updateId }),
    );
  }

  /**
   * Moves the task into `projectId` (null: out of its project); with `expectedProjectId`, only from that one
   * (`version_conflict` otherwise). The project entity must take the task first (clients/project-entity.ts).
   */
  setProject(taskId: string, projectId: string | null, options: CallOptions & { expectedProjectId?: string | null } = {}): Promise<Task> {
    const expected = options.expectedProjectId !== undefined ? { expected_project_id: options.expectedProjectId } : {};
    return this.call(taskId, options, (updateId) =>
      this.handle(taskId).executeUpdate(setProjectUpdate, { args: [{ project_id: projectId, ...expected, ...by(options) }], updateId }),
    );
  }

  /** Deletes the task; with `expectedVersion` (and `expectedCreatedAt`), only if it is still at that version (of that task). */
  delete(taskId: string, options: CallOptions & { expectedVersion?: number; expectedCreatedAt?: string } = {}): Promise<void> {
    const expected = { expected_version: options.expectedVersion, ...(options.expectedCreatedAt ? { expected_created_at: options.expectedCreatedAt } : {}) };
    return this.call(taskId, options, (updateId) => this.handle(taskId).executeUpdate(deleteTaskUpdate, { args: [{ ...expected, ...by(options) }], updateId }));
  }

  private handle(taskId: string): WorkflowHandle<TaskEntityWorkflowSignature> {
    return this.client.workflow.getHandle(taskEntityWorkflowId(taskId));
  }

  /** Sends one update, again while it does not apply, always with the same update id; fails with EntityError kinds. */
  private call<T>(taskId: string, { updateId = randomUUID(), signal }: CallOptions, send: (updateId: string) => Promise<T>): Promise<T> {
    const attempt = async () => {
      try {
        return await (signal ? this.client.withAbortSignal(signal, () => send(updateId)) : send(updateId));
      } catch (err) {
        rethrowAsEntityError(err, `Task ${taskId}`);
      }
    };
    return retryUntilApplied(attempt, `Task ${taskId}`, NOT_APPLIED_RETRY_MS, signal);
  }
}
