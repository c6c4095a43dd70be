/**
 * What every TaskProcessingWorkflow path shares (task-processing.ts, and task-processing-v1.ts for runs
 * recorded before its patch): how the steps that talk to the task entity retry, and the Web UI's progress line.
 */
import { ActivityCancellationType, proxyActivities, proxyLocalActivities, setCurrentDetails, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { TASK_ENTITY_REFUSAL_TYPES } from '../entities/task/messages';

const ENTITY_STEP: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: TASK_ENTITY_REFUSAL_TYPES,
  },
};

/** Steps that talk to the task entity: retried a few times, never when the entity refused. */
export const entitySteps = proxyActivities<Activities>(ENTITY_STEP);

/** A task joining its project (runs with a `project_id`): never retried when the project refused. */
export const projectStep = proxyActivities<Activities>({
  ...ENTITY_STEP,
  retry: { ...ENTITY_STEP.retry, nonRetryableErrorTypes: ['ProjectNotFound', 'ProjectRefused'] },
});

/**
 * The hand-over, whose cancellation the run waits out: its update may still land after the run was
 * cancelled (the call is under way, resending), and the compensation must come after it, or a new task's
 * hand-over would land after a compensation that found no task and be left in place.
 */
export const handOverStep = proxyActivities<Activities>({ ...ENTITY_STEP, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED });

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
