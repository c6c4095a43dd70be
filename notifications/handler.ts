/**
 * The notifications app's Nexus service handler: `notifyAssignee` starts a notification run
 * (notifications/workflows.ts) and answers with its token; the run's result or failure reaches the caller when
 * it ends. The run's id comes from the request's idempotency key, and the Nexus request id makes a repeated
 * start the same start, so one processing run gets one notification run.
 */
import * as nexus from 'nexus-rpc';
import { startWorkflow, WorkflowRunOperationHandler } from '@temporalio/nexus';
import { notificationsService, notificationWorkflowId, type NotifyAssigneeRequest } from './api';
import type { NotifyAssigneeWorkflow } from './workflows';

/** The request's fields, each a non-empty string of bounded length; a caller's mistake is a bad request, never retried. */
export function checkNotifyRequest(input: unknown): NotifyAssigneeRequest {
  const fields = ['task_id', 'assignee', 'title', 'workflow_id', 'idempotency_key'] as const;
  if (typeof input !== 'object' || input === null) throw new nexus.HandlerError('BAD_REQUEST', 'the request must be an object');
  const record = input as Record<string, unknown>;
  for (const field of fields) {
    const value = record[field];
    if (typeof value !== 'string' || value.length === 0 || value.length > 1_000) {
      throw new nexus.HandlerError('BAD_REQUEST', `${field} must be a string of 1 to 1000 characters`);
    }
  }
  const request = Object.fromEntries(fields.map((field) => [field, record[field]])) as unknown as NotifyAssigneeRequest;
  if (record.deliver_by !== undefined) {
    if (typeof record.deliver_by !== 'string' || Number.isNaN(Date.parse(record.deliver_by))) throw new nexus.HandlerError('BAD_REQUEST', 'deliver_by must be an ISO date-time');
    request.deliver_by = record.deliver_by;
  }
  if (record.namespace !== undefined) {
    if (typeof record.namespace !== 'string' || record.namespace.length === 0 || record.namespace.length > 255) throw new nexus.HandlerError('BAD_REQUEST', 'namespace must be a string of 1 to 255 characters');
    request.namespace = record.namespace;
  }
  return request;
}

export function notificationsHandler({ attemptTimeoutMs }: { attemptTimeoutMs: number }) {
  return nexus.serviceHandler(notificationsService, {
    notifyAssignee: new WorkflowRunOperationHandler<NotifyAssigneeRequest, Awaited<ReturnType<typeof NotifyAssigneeWorkflow>>>(async (ctx, input) => {
      const request = checkNotifyRequest(input);
      // The run ends when its caller stops waiting: past that, a notification would tell of an undone assignment.
      const left = request.deliver_by ? Date.parse(request.deliver_by) - Date.now() : undefined;
      if (left !== undefined && left <= 0) throw new nexus.HandlerError('BAD_REQUEST', `deliver_by ${request.deliver_by} has passed`, { retryableOverride: false });
      return startWorkflow<typeof NotifyAssigneeWorkflow>(ctx, 'NotifyAssigneeWorkflow', {
        workflowId: notificationWorkflowId(request),
        args: [{ ...request, attempt_timeout_ms: attemptTimeoutMs }],
        ...(left !== undefined ? { workflowExecutionTimeout: left } : {}),
      });
    }),
  });
}
