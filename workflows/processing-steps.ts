/**
 * What every TaskProcessingWorkflow path shares (task-processing.ts, and task-processing-v1.ts for runs
 * recorded before its patch): how the steps that talk to the task entity retry, and the Web UI's progress line.
 */
import { proxyActivities, proxyLocalActivities, setCurrentDetails } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { TASK_ENTITY_REFUSAL_TYPES } from '../entities/task/messages';

/** Steps that talk to the task entity: retried a few times, never when the entity refused. */
export const entitySteps = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: TASK_ENTITY_REFUSAL_TYPES,
  },
});

/**
 * Validation as a local activity (runs since HAND_OVER_PATCH): it only reads its input, so the worker runs it
 * within the run's workflow task, with no task through the server and back.
 */
export const localValidation = proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 3 } });

/** Compensations must land, so they retry longer than forward steps. */
export const compensationSteps = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
    nonRetryableErrorTypes: TASK_ENTITY_REFUSAL_TYPES,
  },
});

/** The run's current details in the Web UI: which step it is at. */
export function progress(step: number, what: string): void {
  setCurrentDetails(`Step ${step}/5: ${what}`);
}
