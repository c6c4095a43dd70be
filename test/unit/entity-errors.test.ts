/**
 * How failed entity calls read to callers (clients/errors.ts): an update that failed says what failed, not
 * Temporal's wrapper ("Workflow Update failed").
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, RetryState } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { entityFailure } from '../../clients/errors';

const failed = (cause: Error) => new WorkflowUpdateFailedError('Workflow Update failed', cause);

describe('a failed update', () => {
  it("names the entity's own refusal", () => {
    const refusal = entityFailure(failed(ApplicationFailure.nonRetryable('Cannot assign: task t-1 is completed', 'TaskRuleError')), 'Task t-1');
    expect(refusal).toMatchObject({ kind: 'refused', message: 'Cannot assign: task t-1 is completed' });
    expect(entityFailure(failed(ApplicationFailure.nonRetryable('at version 3, not 2', 'VersionConflict')), 'x')).toMatchObject({ kind: 'version_conflict' });
  });

  it('sends again an update the server says the worker never took (UnprocessedUpdate)', () => {
    const unprocessed = ApplicationFailure.create({ message: "Workflow Update is rejected because it wasn't processed by worker.", type: 'UnprocessedUpdate', nonRetryable: true });
    expect(entityFailure(failed(unprocessed), 'Task t-1')).toMatchObject({ kind: 'not_applied', retryable: true });
  });

  it('names the activity or child workflow that failed, and why', () => {
    const root = ApplicationFailure.nonRetryable('3 INVALID_ARGUMENT: invalid query', 'ServiceError');
    const activity = new ActivityFailure('Activity task failed', 'agentTool', '5', RetryState.MAXIMUM_ATTEMPTS_REACHED, 'worker-1', root);
    expect(entityFailure(failed(activity), 'Chat u')!.message).toBe('Activity agentTool failed: 3 INVALID_ARGUMENT: invalid query');
    const child = new ChildWorkflowFailure('default', { workflowId: 'task-workflow-t-1', runId: 'r' }, 'TaskProcessingWorkflow', RetryState.NON_RETRYABLE_FAILURE, root);
    expect(entityFailure(failed(child), 'Chat u')!.message).toBe('Child workflow TaskProcessingWorkflow (task-workflow-t-1) failed: 3 INVALID_ARGUMENT: invalid query');
    expect(entityFailure(failed(activity), 'Chat u')!.message).not.toMatch(/Workflow Update failed/);
  });
});

describe('a call Temporal did not answer', () => {
  const grpcError = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details });

  it('is unavailability, whether the deadline passed on our side or the server cancelled the call at it', () => {
    expect(entityFailure(grpcError(4, 'Deadline exceeded'), 'Task t-1')).toMatchObject({ kind: 'unavailable', message: 'Temporal is unavailable; try again shortly' });
    expect(entityFailure(grpcError(14, 'No connection established'), 'Task t-1')).toMatchObject({ kind: 'unavailable' });
    // A query no worker answers ends with the deadline the client sent; a server under load may answer first,
    // with its own context cancelled (a 500 for a read while no worker ran, seen once on PostgreSQL).
    expect(entityFailure(grpcError(1, 'context canceled'), 'Task t-1')).toMatchObject({ kind: 'unavailable' });
  });

  it('is unavailability when the server says no worker has polled the task queue lately', () => {
    expect(entityFailure(grpcError(9, 'no poller seen for task queue recently, worker may be down'), 'Task t-1')).toMatchObject({ kind: 'unavailable' });
    // Other refusals of that code are not.
    expect(entityFailure(grpcError(9, 'some other precondition'), 'Task t-1')).toBeUndefined();
  });

  it('is a bug to surface otherwise', () => {
    expect(entityFailure(grpcError(3, 'invalid argument'), 'Task t-1')).toBeUndefined();
  });
});
