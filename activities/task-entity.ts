/**
 * Activities that drive the task entity (the seed's ActorProxy calls), through its client.
 *
 * Idempotent: each change carries an update id that is the same on every retry of the call. Workflows pass
 * it (`update_id`, from their run and step, so the changes of one run can later be reverted together);
 * runs recorded before they did get the calling activity's own (workflow id, run id, activity id).
 * Temporal de-duplicates update ids within an entity's run and the entity remembers them across runs, so
 * a retry after a lost response returns the state instead of applying the change again.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { entityFailure } from '../clients/errors';
import type { TaskEntityClient } from '../clients/task-entity';
import type { HandOverTaskInput, Task } from '../common/schemas';
import { activityCaller } from './caller';

export interface TaskEntityActivityDeps {
  tasks: TaskEntityClient;
}

/** `handOverTask`'s input: the hand-over, and its own update id (`update_id`) for the call. */
export type HandOverStepInput = EntityStepInput & HandOverTaskInput;

export interface EntityStepInput {
  task_id: string;
  /** The change's update id; absent in runs recorded before workflows passed one. */
  update_id?: string;
  /** Who started the run (the task's `updated_by`); absent: `cli`. */
  updated_by?: string;
}

/** The entity's answer as an activity outcome: its refusals are final, everything else is retried. */
function asActivityFailure(err: unknown, taskId: string): never {
  const failure = entityFailure(err, `Task ${taskId}`);
  if (failure === undefined) throw err;
  switch (failure.kind) {
    case 'not_found':
      throw ApplicationFailure.nonRetryable(failure.message, 'TaskNotFound');
    case 'version_conflict':
      throw ApplicationFailure.nonRetryable(failure.message, 'VersionConflict');
    case 'refused':
    case 'key_reused':
      throw ApplicationFailure.nonRetryable(failure.message, 'TaskEntityRejected');
    case 'not_applied':
    case 'busy':
    case 'backlogged':
    case 'unavailable':
      throw ApplicationFailure.retryable(failure.message, 'TaskEntityUnavailable');
  }
}

/**
 * Runs one call to the entity with the step's update id. The call gives up when the activity is cancelled:
 * an update waits for the entity's workflow task, which a worker that is shutting down no longer polls, so
 * without this a draining worker would wait on itself.
 */
async function step<T>(input: EntityStepInput, call: (options: { updateId: string; signal: AbortSignal; updatedBy?: string }) => Promise<T>): Promise<T> {
  try {
    return await call({
      updateId: input.update_id ?? activityCaller().idempotencyKey,
      signal: Context.current().cancellationSignal,
      updatedBy: input.updated_by,
    });
  } catch (err) {
    asActivityFailure(err, input.task_id);
  }
}

export function createTaskEntityActivities({ tasks }: TaskEntityActivityDeps) {
  return {
    /** Starts the entity if needed and creates the task in it, atomically (update-with-start). */
    createTask: (input: EntityStepInput & { title: string; description: string }) =>
      step(input, (options) => tasks.create(input.task_id, { title: input.title, description: input.description }, { ...options, ifExists: 'reuse' })),

    assignTask: (input: EntityStepInput & { assignee: string }) => step(input, (options) => tasks.assign(input.task_id, input.assignee, options)),

    /** The seed's set_reminder: a durable timer inside the entity. */
    setDeadline: (input: EntityStepInput & { deadline_seconds: number }) =>
      step(input, (options) => tasks.setDeadline(input.task_id, input.deadline_seconds, options)),

    /**
     * Create, assign and set the deadline in one call to the entity (runs since HAND_OVER_PATCH): each change
     * under its own update id. A step the entity's rules refused fails the activity for good, after the
     * steps before it applied, as the three separate steps would have.
     */
    handOverTask: async (input: HandOverStepInput): Promise<Task> => {
      const { task_id, update_id: _id, updated_by: _by, ...handOver } = input;
      const { refused, task } = await step(input, (options) => tasks.handOver(task_id, handOver, options));
      if (refused) {
        const type = refused.type === 'TaskRuleError' ? 'TaskEntityRejected' : refused.type;
        throw ApplicationFailure.nonRetryable(refused.message, type);
      }
      return task;
    },

    /** The saga's compensation: puts back what the run's changes (`changes_by`) replaced. */
    revertChanges: (input: EntityStepInput & { changes_by: string }) =>
      step(input, (options) => tasks.revertChanges(input.task_id, input.changes_by, options)),

    /** The compensation of runs recorded before revertChanges. */
    unassignTask: (input: EntityStepInput) => step(input, (options) => tasks.unassign(input.task_id, options)),
  };
}
