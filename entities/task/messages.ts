/**
 * The task entity's messages. Every mutation is an update (the caller gets the new state back, or a
 * failure that says why not) and most are also a signal of the same name (fire-and-forget; a refused
 * signal is logged by the entity). These names are the CLI interface too, e.g.
 *   temporal workflow update execute --workflow-id task-entity-task-001 --name assignTask --input '{"assignee":"bob"}'
 *
 * Importable from anywhere: this module defines names and shapes only (clients/task-entity.ts sends them,
 * entities/task/workflow.ts handles them).
 */
import type { IdempotencyRecord } from '../idempotency';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { TaskChange } from './update-log';
import type {
  AssignTaskInput,
  CreateTaskInput,
  DeleteTaskInput,
  HandOverTaskInput,
  RevertChangesInput,
  SetDeadlineInput,
  SetProjectInput,
  Task,
  UpdateStatusInput,
} from '../../common/schemas';
import type { CloudEvent } from '../../workflows/shared/cloudevents';
import type { AppliedUpdate } from './update-log';
import type { TaskNotice } from '../project/messages';

export const TASK_ENTITY_WORKFLOW_TYPE = 'TaskEntityWorkflow';

/**
 * Every change names who made it: the API's caller (a token's `sub`, or `api`), the chat user an agent acts
 * for. The entity records it as the task's `updated_by`; a change that names nobody (an update sent with the
 * temporal CLI) is recorded as `cli`.
 */
export type Attributed<T> = T & { updated_by?: string };

export const createTaskUpdate = defineUpdate<Task, [Attributed<CreateTaskInput>], 'createTask'>('createTask');
export const assignTaskUpdate = defineUpdate<Task, [Attributed<AssignTaskInput>], 'assignTask'>('assignTask');
export const unassignTaskUpdate = defineUpdate<Task, [], 'unassignTask'>('unassignTask');
export const updateStatusUpdate = defineUpdate<Task, [Attributed<UpdateStatusInput>], 'updateStatus'>('updateStatus');
export const setDeadlineUpdate = defineUpdate<Task, [Attributed<SetDeadlineInput>], 'setDeadline'>('setDeadline');
/**
 * A processing run's hand-over in one update (started with the entity when there is none): creates the task
 * (the same task again: no change), assigns it and sets its deadline, each change logged under its own
 * update id, so a caller's revert by prefix and a retried call work as for separate updates. A step the task's
 * rules refuse stops there: what was applied before it stays, and the answer says which step and why.
 */
export const handOverTaskUpdate = defineUpdate<HandOverResult, [Attributed<HandOverTaskInput>], 'handOverTask'>('handOverTask');
export type HandOverStep = 'createTask' | 'assignTask' | 'setDeadline';
export interface HandOverResult {
  task: Task;
  refused?: { step: HandOverStep; message: string; type: TaskEntityFailureType };
}
/**
 * The task joins a project (or leaves its project, with null); with `expected_project_id`, only if it is in
 * that one (a deleted project detaching its tasks leaves alone a task moved elsewhere). The API adds the task to
 * the project entity first, which is who says what belongs to a project; the task then tells it how it stands.
 */
export const setProjectUpdate = defineUpdate<Task, [Attributed<SetProjectInput>], 'setProject'>('setProject');
/** Puts back what one caller's updates changed (ids starting with `changes_by`), unless the task moved on since. */
export const revertChangesUpdate = defineUpdate<Task, [Attributed<RevertChangesInput>], 'revertChanges'>('revertChanges');
/**
 * Removes the task (at `expected_version` when given; the argument may be left out): getTask answers null, every later update to this run is refused, and the entity
 * continues as new, empty, to publish `task.deleted`; creating the task again there starts it afresh.
 */
export const deleteTaskUpdate = defineUpdate<void, [Attributed<DeleteTaskInput>], 'deleteTask'>('deleteTask');

export const assignTaskSignal = defineSignal<[Attributed<AssignTaskInput>], 'assignTask'>('assignTask');
export const unassignTaskSignal = defineSignal<[], 'unassignTask'>('unassignTask');
export const updateStatusSignal = defineSignal<[Attributed<UpdateStatusInput>], 'updateStatus'>('updateStatus');
export const setDeadlineSignal = defineSignal<[Attributed<SetDeadlineInput>], 'setDeadline'>('setDeadline');

/** The task, or null while the entity holds none (not created yet, or deleted). */
export const getTaskQuery = defineQuery<Task | null, [], 'getTask'>('getTask');
/** The task's changes, newest first (the last 500 updates it applied): `temporal workflow query --name getTaskHistory`. */
export const getTaskHistoryQuery = defineQuery<TaskChange[] | null, [], 'getTaskHistory'>('getTaskHistory');

/** Input of a TaskEntityWorkflow run; a continued run gets the state its predecessor carried over. */
export interface TaskEntityInput {
  task_id: string;
  task?: Task | null;
  /** Recently applied updates (ids, versions, what they replaced), carried across runs. */
  applied_updates?: AppliedUpdate[];
  /** Callers whose changes were reverted; a late update of theirs is refused. */
  reverted_prefixes?: string[];
  /** Applied update ids as runs from before `applied_updates` carried them. */
  applied_update_ids?: string[];
  /** Events not yet published, carried over by continue-as-new. */
  outbox?: CloudEvent[];
  /** Continue-as-new once history has this many events (default: when Temporal suggests it). */
  history_limit?: number;
  /** The update that set the current deadline: the task going overdue is that update's doing (see UpdateLog). */
  deadline_set_by?: string;
  /** What the task's project has still to hear (entities/task/project-lane.ts), carried over by continue-as-new. */
  project_lane?: TaskNotice[];
  /** Idempotency keys of creations (POST /tasks) of the last day, with their first answers. */
  idempotency_keys?: IdempotencyRecord<Task>[];
  /**
   * The creating update this run was started with (update-with-start, clients/task-entity.ts), also given here so
   * that the run creates the task as it starts (TaskEntity.applyStartingUpdate). Never carried over.
   */
  starting_update?: StartingUpdate;
}

/** A creating update as a run's input: its name, its id and its argument, exactly as the update carries them. */
export type StartingUpdate =
  | { name: 'createTask'; update_id: string; input: Attributed<CreateTaskInput> }
  | { name: 'handOverTask'; update_id: string; input: Attributed<HandOverTaskInput> };

/** The workflow's signature, so clients type their calls without importing the workflow module (test/unit/layout.test.ts checks it is workflow.ts's). */
export type TaskEntityWorkflowSignature = (input: TaskEntityInput) => Promise<void>;

/**
 * Failure types the entity's updates fail with: a refused transition or bad input, a stale expected
 * version, no such task, and a run that is closing (the task was just deleted: send again, and the update
 * lands in the entity's next run).
 */
export type TaskEntityFailureType = 'TaskRuleError' | 'VersionConflict' | 'TaskNotFound' | 'EntityClosing' | 'IdempotencyKeyReused';

/**
 * Failure types of the activities that call the entity when it refused (clients/task-entity.ts): retrying
 * cannot help, so workflows list them as non-retryable.
 */
export const TASK_ENTITY_REFUSAL_TYPES = ['TaskEntityRejected', 'TaskNotFound', 'VersionConflict'];
