/**
 * Activities that drive the task entity through the Temporal client (the seed's ActorProxy calls).
 *
 * Idempotent by construction: each call sends its update with an id derived from the calling activity
 * (workflow id, run id, activity id), which is the same on every retry. Temporal de-duplicates updates by
 * id, and the entity remembers applied ids across continue-as-new, so a retry after a lost response
 * returns the state instead of applying the mutation again.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { taskEntityWorkflowId } from '../common/ids';
import type { CreateTaskInput, Task } from '../common/schemas';
import { TaskIdAttribute } from '../common/search-attributes';
import {
  assignTaskUpdate,
  createTaskUpdate,
  setDeadlineUpdate,
  unassignTaskUpdate,
} from '../entities/task/messages';
import { TaskEntityWorkflow } from '../entities/task/workflow';
import { activityCaller } from './caller';

export interface TaskEntityActivityDeps {
  client: Client;
  /** Task queue the entity workflows run on. */
  taskQueue: string;
}

/** The update id of this activity call; stable across its retries. */
const callerUpdateId = () => activityCaller().idempotencyKey;

function asActivityFailure(err: unknown, taskId: string): never {
  if (err instanceof WorkflowUpdateFailedError) {
    const reason = err.cause instanceof Error ? err.cause.message : err.message;
    throw ApplicationFailure.nonRetryable(reason, 'TaskEntityRejected');
  }
  if (err instanceof WorkflowNotFoundError) {
    throw ApplicationFailure.nonRetryable(`Task ${taskId} does not exist`, 'TaskNotFound');
  }
  throw err;
}

export function createTaskEntityActivities({ client, taskQueue }: TaskEntityActivityDeps) {
  const entity = (taskId: string) => client.workflow.getHandle(taskEntityWorkflowId(taskId));

  /**
   * Runs one call to the entity, turning the entity's refusals into non-retryable activity failures.
   * The call gives up when the activity is cancelled: an update waits for the entity's workflow task, which
   * a worker that is shutting down no longer polls, so without this a draining worker would wait on itself.
   */
  async function guarded(taskId: string, call: (updateId: string) => Promise<Task>): Promise<Task> {
    try {
      return await client.withAbortSignal(Context.current().cancellationSignal, () => call(callerUpdateId()));
    } catch (err) {
      asActivityFailure(err, taskId);
    }
  }

  return {
    /** Starts the entity if needed and creates the task in it, atomically (update-with-start). */
    async createTask(input: { task_id: string } & CreateTaskInput): Promise<Task> {
      const startWorkflowOperation = new WithStartWorkflowOperation(TaskEntityWorkflow, {
        workflowId: taskEntityWorkflowId(input.task_id),
        taskQueue,
        args: [{ task_id: input.task_id }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        staticSummary: `Task entity ${input.task_id}`,
        typedSearchAttributes: [{ key: TaskIdAttribute, value: input.task_id }],
      });
      return guarded(input.task_id, (updateId) =>
        client.workflow.executeUpdateWithStart(createTaskUpdate, {
          args: [{ title: input.title, description: input.description }],
          startWorkflowOperation,
          updateId,
        }),
      );
    },

    assignTask: (input: { task_id: string; assignee: string }) =>
      guarded(input.task_id, (updateId) =>
        entity(input.task_id).executeUpdate(assignTaskUpdate, { args: [{ assignee: input.assignee }], updateId }),
      ),

    /** The saga's compensation for assignTask. */
    unassignTask: (input: { task_id: string }) =>
      guarded(input.task_id, (updateId) => entity(input.task_id).executeUpdate(unassignTaskUpdate, { updateId })),

    /** The seed's set_reminder: a durable timer inside the entity. */
    setDeadline: (input: { task_id: string; deadline_seconds: number }) =>
      guarded(input.task_id, (updateId) =>
        entity(input.task_id).executeUpdate(setDeadlineUpdate, { args: [{ deadline_seconds: input.deadline_seconds }], updateId }),
      ),
  };
}
