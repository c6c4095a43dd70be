/**
 * The notifications app's Nexus service handler. `notifyAssignee` makes the first attempt at once, within the
 * Nexus request, and answers with its result: one task for the server, where a run costs a start, two workflow
 * tasks, an activity and a callback (bench/README.md, "The notify step: one Nexus task instead of a run"). When that attempt
 * does not deliver, or an attempt would not fit in the request's time, it starts a notification run
 * (notifications/workflows.ts) that makes the rest of the seed's policy, and answers with its token; the run's
 * result or failure reaches the caller when it ends. The run's id comes from the request's idempotency key, and
 * the Nexus request id makes a repeated start the same start, so one processing run gets at most one notification run.
 */
import * as nexus from 'nexus-rpc';
import { ApplicationFailure } from '@temporalio/common';
import { log, startWorkflow, WorkflowRunOperationHandler } from '@temporalio/nexus';
import type { NotifyAttempt } from '../activities/notify';
import { notificationsService, notificationWorkflowId, type NotifyAssigneeRequest, type NotifyAssigneeResult } from './api';
import type { NotifyAssigneeRun } from './workflows';

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

/** Left of the request's time for the answer to travel back, after an attempt made at once. */
const ANSWER_MARGIN_MS = 1_000;

export interface NotificationsHandlerOptions {
  /** One attempt's time (NOTIFY_TIMEOUT_MS). */
  timeoutMs: number;
  /** A run's attempt's start-to-close: NOTIFY_TIMEOUT_MS and a grace period. */
  attemptTimeoutMs: number;
  /** One attempt outside an activity: the app's notifyAssignee (with the tests' fault injection around it). */
  attempt: (request: NotifyAssigneeRequest, attempt: NotifyAttempt) => Promise<NotifyAssigneeResult>;
}

export function notificationsHandler(options: NotificationsHandlerOptions) {
  const runs = new WorkflowRunOperationHandler<NotifyAssigneeRun, NotifyAssigneeResult>(async (ctx, run) =>
    startWorkflow<(run: NotifyAssigneeRun) => Promise<NotifyAssigneeResult>>(ctx, 'NotifyAssigneeWorkflow', {
      workflowId: notificationWorkflowId(run),
      args: [run],
      // The run ends when its caller stops waiting: past that, a notification would tell of an undone assignment.
      ...(run.deliver_by !== undefined ? { workflowExecutionTimeout: Date.parse(run.deliver_by) - Date.now() } : {}),
    }),
  );

  const notifyAssignee: nexus.OperationHandler<NotifyAssigneeRequest, NotifyAssigneeResult> = {
    async start(ctx, input) {
      const request = checkNotifyRequest(input);
      const now = Date.now();
      const left = request.deliver_by !== undefined ? Date.parse(request.deliver_by) - now : Infinity;
      if (left <= 0) throw new nexus.HandlerError('BAD_REQUEST', `deliver_by ${request.deliver_by} has passed`, { retryableOverride: false });

      // At once only when a whole attempt fits in this request and before deliver_by: an attempt is never cut short.
      const requestLeft = ctx.requestDeadline !== undefined ? ctx.requestDeadline.getTime() - now - ANSWER_MARGIN_MS : Infinity;
      let attemptsMade = 0;
      if (options.timeoutMs <= Math.min(requestLeft, left)) {
        try {
          return nexus.HandlerStartOperationResult.sync(await options.attempt(request, { timeoutMs: options.timeoutMs, signal: ctx.abortSignal }));
        } catch (err) {
          // The request was given up (timed out, the worker stopping): the server sends it again.
          if (ctx.abortSignal.aborted) throw err;
          if (err instanceof ApplicationFailure && err.nonRetryable) throw new nexus.OperationError('failed', err.message, { cause: err });
          // Whatever failed it (the webhook, Redis, the worker), it was the policy's first attempt, as in an activity.
          attemptsMade = 1;
          log.info(`First attempt to notify ${request.assignee} did not deliver; a notification run goes on`, {
            idempotency_key: request.idempotency_key,
            error: err instanceof Error ? err.message : String(err),
          });
        }
      }
      if (request.deliver_by !== undefined && Date.parse(request.deliver_by) - Date.now() <= 0) {
        throw new nexus.OperationError('failed', `Notification service unavailable for ${request.assignee}: deliver_by ${request.deliver_by} passed during the first attempt`);
      }
      return runs.start(ctx, { ...request, attempt_timeout_ms: options.attemptTimeoutMs, attempts_made: attemptsMade });
    },
    cancel: (ctx, token) => runs.cancel(ctx, token),
  };

  return nexus.serviceHandler(notificationsService, { notifyAssignee });
}
