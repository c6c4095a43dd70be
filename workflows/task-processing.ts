/**
 * TaskProcessingWorkflow (`task-workflow-{task_id}`): validate -> create task -> assign -> set deadline ->
 * notify assignee, with saga compensation. Input and result are the seed's JSON shapes; the messages are
 * the seed's too. Started by `POST /tasks/process` or `temporal workflow start --type TaskProcessingWorkflow`.
 *
 * The compensation puts the task back as it was before this run: the previous assignee, status and
 * deadline (for a task this run created: `pending`, unassigned, no deadline, as the seed leaves it). It is
 * registered before the steps it undoes and names them by their update ids, so a change that landed while
 * its call failed or the run was cancelled is undone too, and a change nobody made is not. If someone
 * else changed the task after this run's changes, the entity refuses and the result says so.
 */
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  createNexusServiceClient,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { NexusOperationFailure } from '@temporalio/common';
import type { Activities } from '../activities';
import { HEARTBEAT_TIMEOUT_MS } from './shared/activity-timeouts';
import { ProcessTaskRequestRules } from './shared/workflow-inputs';
import { checkInput, describeFieldErrors } from './shared/input-rules';
import type { ProcessTaskRequest, TaskProcessingResult } from '../common/schemas';
import { TaskAssigneeAttribute, TaskIdAttribute } from './shared/search-attributes';
import { TASK_ENTITY_REFUSAL_TYPES } from '../entities/task/messages';
import { compensationSteps, entitySteps, handOverStep, localValidation, progress, projectStep } from './processing-steps';
import { Compensations, rootCauseMessage, rootCauseType, type FailedCompensation } from './saga';
import { processAsRecordedBefore } from './task-processing-v1';
import { NOTIFY_RETRY_POLICY, notificationKey, notificationsService } from '../notifications/api';
import type { ActivitySettings } from './shared/activity-timeouts';
import { patchesSince, type Patches } from './shared/patches';

/** Runs recorded before this patch compensated by unassigning only (workflows/task-processing-v1.ts). */
export const REVERT_PATCH = 'processing-reverts-its-changes';
/**
 * Runs recorded before this patch validated in an activity and made the entity's three changes in three
 * activities (three updates); since, validation is a local activity and the three changes are one
 * `handOverTask` activity (one update-with-start), each still under its own update id. Half the server's work
 * per run (bench/README.md, "What one run costs").
 */
export const HAND_OVER_PATCH = 'processing-hands-over-at-once';
/** Runs recorded before this patch set their search attributes again even when started with them. */
export const TAGGED_AT_START_PATCH = 'processing-tagged-at-start';
/**
 * Runs recorded before this patch notified with the worker's own activity; since, they call the notifications
 * app through its Nexus endpoint (NOTIFY_VIA=nexus, the default), which runs the same activity under the same policy.
 */
export const NOTIFY_OVER_NEXUS_PATCH = 'processing-notifies-over-nexus';
/**
 * Runs since this patch take the path of every patch above without asking them: each asked costs the run a
 * marker, an upsert and a visibility write (workflows/shared/patches.ts).
 */
export const PROCESSING_V2_PATCH = 'processing-v2';
const PATCHES_BEFORE_V2 = [REVERT_PATCH, HAND_OVER_PATCH, TAGGED_AT_START_PATCH, NOTIFY_OVER_NEXUS_PATCH];

const { activitySettings } = proxyLocalActivities<Activities>({ startToCloseTimeout: '5 seconds' });

/**
 * The update ids of this run's changes to the entity. The assignment and the deadline share a prefix,
 * which the compensation names to revert exactly them.
 */
function updateIds() {
  const { workflowId, runId } = workflowInfo();
  const run = `${workflowId}/${runId}`;
  const changes = `${run}/change/`;
  return { create: `${run}/create`, changes, assign: `${changes}assign`, deadline: `${changes}deadline`, revert: `${run}/revert`, handOver: `${run}/hand-over` };
}

/** Who asked for the run (the API's caller); its changes to the task are recorded as theirs (`updated_by`). */
export interface ProcessingOptions {
  updated_by?: string;
}

export async function TaskProcessingWorkflow(rawInput: ProcessTaskRequest, options: ProcessingOptions = {}): Promise<TaskProcessingResult> {
  const patches = patchesSince(PROCESSING_V2_PATCH, PATCHES_BEFORE_V2);
  // The API has already validated this; a start from the CLI or another client has not.
  const parsed = checkInput(ProcessTaskRequestRules, rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`Invalid input: ${describeFieldErrors(parsed.errors)}`, 'InvalidInput');
  }
  const input = parsed.data;
  // The API starts runs with these set (clients/processing.ts); a start from elsewhere gets them here.
  const attributes = workflowInfo().typedSearchAttributes;
  const tagged = attributes.get(TaskIdAttribute) === input.task_id && attributes.get(TaskAssigneeAttribute) === input.assignee;
  if (!tagged || !patches.has(TAGGED_AT_START_PATCH)) {
    upsertSearchAttributes([
      { key: TaskIdAttribute, value: input.task_id },
      { key: TaskAssigneeAttribute, value: input.assignee },
    ]);
  }
  const by = typeof options?.updated_by === 'string' ? { updated_by: options.updated_by } : {};
  return patches.has(REVERT_PATCH) ? processTask(input, by, patches) : processAsRecordedBefore(input);
}

async function processTask(input: ProcessTaskRequest, by: ProcessingOptions, patches: Patches): Promise<TaskProcessingResult> {
  const { task_id, assignee } = input;
  const settings = await activitySettings();
  /**
   * The seed's policy for the notification: 3 attempts, 1 s apart at first, doubling. Each attempt may take
   * NOTIFY_TIMEOUT_MS; a worker that dies during one is noticed by the missing heartbeats.
   */
  const notifyStep = proxyActivities<Activities>({
    startToCloseTimeout: settings.notify_timeout_ms,
    heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
    retry: { maximumAttempts: NOTIFY_RETRY_POLICY.maximumAttempts, initialInterval: NOTIFY_RETRY_POLICY.initialIntervalMs, backoffCoefficient: NOTIFY_RETRY_POLICY.backoffCoefficient },
  });
  const ids = updateIds();
  const compensations = new Compensations();
  const atOnce = patches.has(HAND_OVER_PATCH);
  try {
    progress(1, 'validating');
    const validation = await (atOnce ? localValidation : entitySteps).validateTask.executeWithOptions({ summary: 'Validate title and description' }, [
      { task_id, title: input.title, description: input.description },
    ]);
    if (!validation.is_valid) {
      setCurrentDetails(`Rejected: ${validation.issues.join('; ')}`);
      return { task_id, status: 'rejected', message: `Validation failed: ${validation.issues.join('; ')}` };
    }

    if (input.project_id !== undefined) {
      // The project says who belongs to it: the task joins it before it exists, so the project counts it
      // from the start and hears of it from its first change. No project: the run stops here.
      const project_id = input.project_id;
      const joined = await joinProject(project_id, task_id, by);
      if (joined !== undefined) return joined;
      compensations.add('leaveProject', () =>
        compensationSteps.leaveProjectUnlessIn.executeWithOptions({ summary: `Compensation: leave project ${project_id} unless the task is in it` }, [{ project_id, task_id, ...by }]),
      );
    }

    if (atOnce) {
      // Registered first: the hand-over's assignment and deadline may land even when its call fails. A task
      // that never came to exist has nothing to put back; one that the hand-over made and someone then
      // deleted is reported as a compensation refused.
      let handedOver = false;
      compensations.add('revertChanges', () =>
        compensationSteps.revertChanges
          .executeWithOptions({ summary: 'Compensation: put back the assignee and deadline' }, [{ task_id, changes_by: ids.changes, update_id: ids.revert, ...by }])
          .catch((err: unknown) => {
            if (handedOver || rootCauseType(err) !== 'TaskNotFound') throw err;
          }),
      );
      progress(2, `creating, assigning to ${assignee} and setting the deadline reminder (${input.deadline_seconds}s)`);
      await handOverStep.handOverTask.executeWithOptions({ summary: `Create, assign to ${assignee}, deadline in ${input.deadline_seconds}s` }, [
        {
          task_id,
          title: input.title,
          description: input.description,
          assignee,
          deadline_seconds: input.deadline_seconds,
          create_update_id: ids.create,
          assign_update_id: ids.assign,
          deadline_update_id: ids.deadline,
          ...(input.project_id !== undefined ? { project_id: input.project_id } : {}),
          update_id: ids.handOver,
          ...by,
        },
      ]);
      handedOver = true;
    } else {
      await handOverStepByStep(input, ids, compensations, by);
    }

    progress(5, `notifying ${assignee}`);
    const notification = { task_id, assignee, title: input.title };
    if (settings.notify_nexus && patches.has(NOTIFY_OVER_NEXUS_PATCH)) {
      await notifyOverNexus(settings.notify_nexus, notification);
    } else {
      await notifyStep.notifyAssignee.executeWithOptions({ summary: `Notify ${assignee}` }, [notification]);
    }
  } catch (err) {
    const reason = rootCauseMessage(err);
    log.warn(`Processing failed, compensating: ${reason}`, { task_id });
    setCurrentDetails(`Failed, compensating: ${reason}`);
    const failed = await compensations.runAll();
    // A cancelled run ends cancelled, after compensating, whichever step noticed the cancellation.
    if (isCancellation(err)) throw err;
    if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('Workflow cancelled; compensated');
    const result = { task_id, status: 'failed' as const, message: failureMessage(reason, failed) };
    setCurrentDetails(result.message);
    return result;
  }

  setCurrentDetails(`Completed: assigned to ${assignee}`);
  return { task_id, status: 'completed', message: `Task assigned to ${assignee} with deadline reminder` };
}

/** Adds the task to its project; a result when it cannot (no such project, or it is full), else undefined. */
async function joinProject(projectId: string, taskId: string, by: ProcessingOptions): Promise<TaskProcessingResult | undefined> {
  progress(2, `joining project ${projectId}`);
  try {
    await projectStep.addTaskToProject.executeWithOptions({ summary: `Join project ${projectId}` }, [{ project_id: projectId, task_id: taskId, ...by }]);
    return undefined;
  } catch (err) {
    const type = rootCauseType(err);
    if (type !== 'ProjectNotFound' && type !== 'ProjectRefused') throw err;
    const message = `Validation failed: ${rootCauseMessage(err)}`;
    setCurrentDetails(`Rejected: ${message}`);
    return { task_id: taskId, status: 'rejected', message };
  }
}

/**
 * The notification as an operation of the notifications app (notifications/): the app retries by the seed's
 * policy and fails the operation when its last attempt fails; this run waits for it at most `timeout_ms`
 * (NOTIFY_NEXUS_TIMEOUT_MS, the app being down included), then compensates; the notification stops trying at the
 * same moment (`deliver_by`), so none arrives after the compensation. Its key, one per run (the first run's id,
 * which a reset keeps), makes a request the server delivers twice, or a reset run's, one notification. A run
 * cancelled meanwhile waits for the operation's cancellation (or its end) before it compensates, as for the hand-over.
 */
async function notifyOverNexus(nexus: NonNullable<ActivitySettings['notify_nexus']>, notification: { task_id: string; assignee: string; title: string }) {
  const { workflowId, firstExecutionRunId, namespace } = workflowInfo();
  const notifications = createNexusServiceClient({ endpoint: nexus.endpoint, service: notificationsService });
  try {
    await notifications.executeOperation(
      'notifyAssignee',
      {
        ...notification,
        workflow_id: workflowId,
        idempotency_key: notificationKey(workflowId, firstExecutionRunId),
        namespace,
        deliver_by: new Date(Date.now() + nexus.timeout_ms).toISOString(),
      },
      { scheduleToCloseTimeout: nexus.timeout_ms, summary: `Notify ${notification.assignee}`, cancellationType: 'WAIT_CANCELLATION_COMPLETED' },
    );
    // Cancelled while the notification ended anyway: the run still compensates and ends cancelled.
    if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('Workflow cancelled while notifying');
  } catch (err) {
    // The app did not answer in time (down, or its attempts outlasted the wait): say so in the seed's words.
    if (err instanceof NexusOperationFailure && err.cause instanceof TimeoutFailure) {
      throw ApplicationFailure.nonRetryable(
        `Notification service unavailable for ${notification.assignee}: the notifications app did not answer within ${nexus.timeout_ms / 1000}s`,
        'NotifyUnavailable',
      );
    }
    throw err;
  }
}

/**
 * The entity's changes as runs recorded before HAND_OVER_PATCH made them, one activity (and update) each:
 * create, then (the compensation registered before the changes it undoes) assign and the deadline.
 */
async function handOverStepByStep(input: ProcessTaskRequest, ids: ReturnType<typeof updateIds>, compensations: Compensations, by: ProcessingOptions): Promise<void> {
  const { task_id, assignee } = input;
  progress(2, 'creating the task entity');
  await entitySteps.createTask.executeWithOptions({ summary: `Create task ${task_id}` }, [
    { task_id, title: input.title, description: input.description, update_id: ids.create, ...by },
  ]);
  // No compensation for the creation: a task this run created is left `pending`, as in the seed.
  compensations.add('revertChanges', () =>
    compensationSteps.revertChanges.executeWithOptions({ summary: 'Compensation: put back the assignee and deadline' }, [
      { task_id, changes_by: ids.changes, update_id: ids.revert, ...by },
    ]),
  );

  progress(3, `assigning to ${assignee}`);
  await entitySteps.assignTask.executeWithOptions({ summary: `Assign to ${assignee}` }, [{ task_id, assignee, update_id: ids.assign, ...by }]);

  progress(4, `setting the deadline reminder (${input.deadline_seconds}s)`);
  await entitySteps.setDeadline.executeWithOptions({ summary: `Deadline in ${input.deadline_seconds}s` }, [
    { task_id, deadline_seconds: input.deadline_seconds, update_id: ids.deadline, ...by },
  ]);
}

/**
 * The seed's "compensation applied", or what kept it from being true: refused (someone else changed or
 * deleted the task meanwhile; it is left as they left it) or failed (someone has to look at this task).
 */
function failureMessage(reason: string, failed: FailedCompensation[]): string {
  if (failed.length === 0) return `Processing failed, compensation applied: ${reason}`;
  const refused = failed.filter((f) => TASK_ENTITY_REFUSAL_TYPES.includes(rootCauseType(f.error) ?? ''));
  if (refused.length === failed.length) {
    return `Processing failed; compensation refused (${refused.map((f) => rootCauseMessage(f.error)).join('; ')}): ${reason}`;
  }
  return `Processing failed; compensation failed (${failed.map((f) => f.name).join(', ')}): ${reason}`;
}
