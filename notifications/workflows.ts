/**
 * The notifications app's workflow bundle: one run per notification (`notify/{idempotency key}`), started by the
 * Nexus operation (notifications/handler.ts), so the seed's retry policy holds across the call: 3 attempts, 1 s
 * apart at first, doubling. A failure after the last attempt fails the run, which fails the caller's operation,
 * whose run then compensates.
 */
import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { createNotifyActivities } from '../activities/notify';
import { HEARTBEAT_TIMEOUT_MS } from '../workflows/shared/activity-timeouts';
import type { NotifyAssigneeRequest, NotifyAssigneeResult } from './api';

type NotifyActivities = ReturnType<typeof createNotifyActivities>;

export interface NotifyAssigneeRun extends NotifyAssigneeRequest {
  /** One attempt's start-to-close: the app's NOTIFY_TIMEOUT_MS and a grace period, given by the handler. */
  attempt_timeout_ms: number;
}

export async function NotifyAssigneeWorkflow(run: NotifyAssigneeRun): Promise<NotifyAssigneeResult> {
  const { attempt_timeout_ms, ...request } = run;
  const { notifyAssignee } = proxyActivities<NotifyActivities>({
    startToCloseTimeout: attempt_timeout_ms,
    heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
    retry: { maximumAttempts: 3, initialInterval: '1 second', backoffCoefficient: 2 },
  });
  setCurrentDetails(`Notifying ${request.assignee} of ${request.task_id} for ${request.workflow_id}`);
  const result = await notifyAssignee.executeWithOptions({ summary: `Notify ${request.assignee}` }, [request]);
  setCurrentDetails(`Notified ${request.assignee} by ${result.channel}`);
  return result;
}
