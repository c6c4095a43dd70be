/**
 * TaskProcessingWorkflow as runs recorded before REVERT_PATCH did it (workflows/task-processing.ts): the
 * only compensation unassigned the task, registered after the assignment returned; activity timeouts
 * were fixed. Kept, unchanged, so those runs replay and finish on this worker. Retire it once no such run
 * is open (docs: versioning).
 */
import { isCancellation, log, proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ProcessTaskRequest, TaskProcessingResult } from '../common/schemas';
import { compensationSteps, entitySteps, progress } from './processing-steps';
import { Compensations, rootCauseMessage } from './saga';

/** The seed's policy for the notification: 3 attempts, 1 s apart at first, doubling. */
const notifyStep = proxyActivities<Activities>({
  // Above NOTIFY_TIMEOUT_MS (5 s by default, at most 60 s is allowed but keep it below this), so the
  // webhook's own timeout answers first; this one catches a worker that died mid-call.
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1 second', backoffCoefficient: 2 },
});

export async function processAsRecordedBefore(input: ProcessTaskRequest): Promise<TaskProcessingResult> {
  const { task_id, assignee } = input;

  progress(1, 'validating');
  const validation = await entitySteps.validateTask.executeWithOptions(
    { summary: 'Validate title and description' },
    [{ task_id, title: input.title, description: input.description }],
  );
  if (!validation.is_valid) {
    setCurrentDetails(`Rejected: ${validation.issues.join('; ')}`);
    return { task_id, status: 'rejected', message: `Validation failed: ${validation.issues.join('; ')}` };
  }

  const compensations = new Compensations();
  try {
    progress(2, 'creating the task entity');
    await entitySteps.createTask.executeWithOptions({ summary: `Create task ${task_id}` }, [
      { task_id, title: input.title, description: input.description },
    ]);
    // No compensation: a created but unassigned task is left `pending`, as in the seed.

    progress(3, `assigning to ${assignee}`);
    await entitySteps.assignTask.executeWithOptions({ summary: `Assign to ${assignee}` }, [
      { task_id, assignee },
    ]);
    compensations.add('unassignTask', () =>
      compensationSteps.unassignTask.executeWithOptions({ summary: 'Compensation: unassign' }, [{ task_id }]),
    );

    progress(4, `setting the deadline reminder (${input.deadline_seconds}s)`);
    await entitySteps.setDeadline.executeWithOptions(
      { summary: `Deadline in ${input.deadline_seconds}s` },
      [{ task_id, deadline_seconds: input.deadline_seconds }],
    );

    progress(5, `notifying ${assignee}`);
    await notifyStep.notifyAssignee.executeWithOptions({ summary: `Notify ${assignee}` }, [
      { task_id, assignee, title: input.title },
    ]);
  } catch (err) {
    const reason = rootCauseMessage(err);
    log.warn(`Processing failed, compensating: ${reason}`, { task_id });
    setCurrentDetails(`Failed, compensating: ${reason}`);
    const failedCompensations = (await compensations.runAll()).map((failed) => failed.name);
    if (isCancellation(err)) throw err;
    if (failedCompensations.length > 0) {
      // Say so: "compensation applied" would be false, and someone has to look at this task.
      setCurrentDetails(`Failed; compensations that also failed: ${failedCompensations.join(', ')}`);
      return { task_id, status: 'failed', message: `Processing failed; compensation failed (${failedCompensations.join(', ')}): ${reason}` };
    }
    setCurrentDetails(`Failed and compensated: ${reason}`);
    return { task_id, status: 'failed', message: `Processing failed, compensation applied: ${reason}` };
  }

  setCurrentDetails(`Completed: assigned to ${assignee}`);
  return { task_id, status: 'completed', message: `Task assigned to ${assignee} with deadline reminder` };
}
