/**
 * The task entity's messages. Every mutation is an update (the caller gets the new state back, or a
 * failure that says why not) and also a signal of the same name (fire-and-forget; a refused signal is
 * logged by the entity). These names are the CLI interface too, e.g.
 *   temporal workflow update execute --workflow-id task-entity-task-001 --name assignTask --input '{"assignee":"bob"}'
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  AssignTaskInput,
  CreateTaskInput,
  SetDeadlineInput,
  Task,
  UpdateStatusInput,
} from '../../common/schemas';
import type { CloudEvent } from '../../events/cloudevents';

export const createTaskUpdate = defineUpdate<Task, [CreateTaskInput]>('createTask');
export const assignTaskUpdate = defineUpdate<Task, [AssignTaskInput]>('assignTask');
export const unassignTaskUpdate = defineUpdate<Task, []>('unassignTask');
export const updateStatusUpdate = defineUpdate<Task, [UpdateStatusInput]>('updateStatus');
export const setDeadlineUpdate = defineUpdate<Task, [SetDeadlineInput]>('setDeadline');
/** Removes the task: the entity publishes `task.deleted` and its run completes; the id can be used again. */
export const deleteTaskUpdate = defineUpdate<void, []>('deleteTask');

export const assignTaskSignal = defineSignal<[AssignTaskInput]>('assignTask');
export const unassignTaskSignal = defineSignal<[]>('unassignTask');
export const updateStatusSignal = defineSignal<[UpdateStatusInput]>('updateStatus');
export const setDeadlineSignal = defineSignal<[SetDeadlineInput]>('setDeadline');

/** The task, or null while the entity exists but holds no task yet. */
export const getTaskQuery = defineQuery<Task | null>('getTask');

/** Input of a TaskEntityWorkflow run; a continued run gets the state its predecessor carried over. */
export interface TaskEntityInput {
  task_id: string;
  task?: Task | null;
  /** Ids of recently applied updates, so a retried caller never applies a mutation twice across runs. */
  applied_update_ids?: string[];
  /** Events not yet published, carried over by continue-as-new. */
  outbox?: CloudEvent[];
  /** Continue-as-new once history has this many events (default: when Temporal suggests it). */
  history_limit?: number;
}

/**
 * Failure types of activities that call the entity when the entity refused (bad transition, no such task):
 * retrying cannot help, so callers list these as non-retryable.
 */
export const TASK_ENTITY_REFUSAL_TYPES = ['TaskEntityRejected', 'TaskNotFound'];

/** Failure types the entity's updates fail with: a refused transition, a stale expected version, no such task. */
export type TaskEntityFailureType = 'TaskRuleError' | 'VersionConflict' | 'TaskNotFound';
