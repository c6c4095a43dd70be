/**
 * The notifications app's contract: one Nexus service, `notifications`, whose `notifyAssignee` operation tells
 * an assignee about a task. The processing workflow calls it through a Nexus endpoint (workflows/task-processing.ts);
 * the notifications app implements it (notifications/handler.ts). Workflow-safe: nexus-rpc and types only.
 */
import * as nexus from 'nexus-rpc';

export interface NotifyAssigneeRequest {
  task_id: string;
  assignee: string;
  title: string;
  /** The processing workflow that asks: the notification is recorded under it. */
  workflow_id: string;
  /**
   * One per processing run (`{workflowId}/{firstExecutionRunId}/notify-assignee`): the webhook's Idempotency-Key on every
   * attempt, and the id of the notification run, so a request delivered twice notifies once.
   */
  idempotency_key: string;
  /**
   * When the caller stops waiting (ISO time): the notification run ends by then, so it never notifies after the
   * caller gave up and compensated.
   */
  deliver_by?: string;
  /** The caller's namespace (a tenant's, with TENANTS): the notification is recorded and sent with it, so tenants never mix. */
  namespace?: string;
}

export interface NotifyAssigneeResult {
  notified: true;
  assignee: string;
  notified_at: string;
  channel: 'webhook' | 'redis';
}

export const notificationsService = nexus.service('notifications', {
  notifyAssignee: nexus.operation<NotifyAssigneeRequest, NotifyAssigneeResult>(),
});

/** The seed's retry policy for a notification: 3 attempts, 1 s apart at first, doubling. */
export const NOTIFY_RETRY_POLICY = { maximumAttempts: 3, initialIntervalMs: 1_000, backoffCoefficient: 2 } as const;

/** A processing run's notification key: one per run, kept by a reset (which keeps the first run's id). */
export const notificationKey = (workflowId: string, firstRunId: string) => `${workflowId}/${firstRunId}/notify-assignee`;

/** The notification run behind one operation, in the notifications namespace. */
export const notificationWorkflowId = (request: Pick<NotifyAssigneeRequest, 'idempotency_key'>) => `notify/${request.idempotency_key}`;

/** The notification run of a processing run (when its first attempt did not deliver), by its id and first run's id. */
export const notificationRunId = (workflowId: string, firstRunId: string) => notificationWorkflowId({ idempotency_key: notificationKey(workflowId, firstRunId) });
