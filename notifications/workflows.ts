/**
 * The notifications app's workflow bundle: one run per notification (`notify/{idempotency key}`), started by the
 * Nexus operation (notifications/handler.ts) when its first attempt, made at once, did not deliver. The run
 * makes the rest of the seed's retry policy, so it holds across the call: 3 attempts, 1 s apart at first,
 * doubling. A failure after the last attempt fails the run, which fails the caller's operation, whose run then
 * compensates.
 */
import { patched, proxyActivities, setCurrentDetails, sleep } from '@temporalio/workflow';
import type { createNotifyActivities } from '../activities/notify';
import { HEARTBEAT_TIMEOUT_MS } from '../workflows/shared/activity-timeouts';
import { NOTIFY_RETRY_POLICY, type NotifyAssigneeRequest, type NotifyAssigneeResult } from './api';

type NotifyActivities = ReturnType<typeof createNotifyActivities>;

/**
 * A run told of an attempt made before it (`attempts_made`) continues the policy. Behind a patch because during
 * a rolling deploy a replica with the code before may take such a run's first workflow task: it makes three
 * attempts at once, and a replica with this code that replays it later must do the same.
 */
export const CONTINUES_FIRST_ATTEMPT_PATCH = 'notify-run-continues-first-attempt';

export interface NotifyAssigneeRun extends NotifyAssigneeRequest {
  /** One attempt's start-to-close: the app's NOTIFY_TIMEOUT_MS and a grace period, given by the handler. */
  attempt_timeout_ms: number;
  /**
   * Attempts the handler already made (0 or 1; unset in runs started before it tried at once): the run waits
   * what the policy waits after them, then makes the rest.
   */
  attempts_made?: number;
}

export async function NotifyAssigneeWorkflow(run: NotifyAssigneeRun): Promise<NotifyAssigneeResult> {
  const { attempt_timeout_ms, attempts_made = 0, ...request } = run;
  const { maximumAttempts, initialIntervalMs, backoffCoefficient } = NOTIFY_RETRY_POLICY;
  const told = Math.min(Math.max(0, Math.floor(attempts_made)), maximumAttempts - 1);
  const made = told > 0 && patched(CONTINUES_FIRST_ATTEMPT_PATCH) ? told : 0;
  if (made > 0) {
    setCurrentDetails(`Attempt ${made} did not deliver to ${request.assignee}; trying again`);
    await sleep(initialIntervalMs * backoffCoefficient ** (made - 1));
  }
  const { notifyAssignee } = proxyActivities<NotifyActivities>({
    startToCloseTimeout: attempt_timeout_ms,
    heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
    retry: { maximumAttempts: maximumAttempts - made, initialInterval: initialIntervalMs * backoffCoefficient ** made, backoffCoefficient },
  });
  setCurrentDetails(`Notifying ${request.assignee} of ${request.task_id} for ${request.workflow_id}`);
  const result = await notifyAssignee.executeWithOptions({ summary: `Notify ${request.assignee}` }, [request]);
  setCurrentDetails(`Notified ${request.assignee} by ${result.channel}`);
  return result;
}
