/**
 * Step 5 of TaskProcessingWorkflow: tell the assignee. POSTs to NOTIFY_WEBHOOK_URL when set (a non-2xx
 * answer or a timeout is a failure, retried by the workflow's policy), otherwise records the notification
 * in Redis. Both are idempotent: the webhook gets an Idempotency-Key that is the same on every retry, and
 * the Redis record is keyed by the processing workflow, so a retry overwrites rather than duplicates. Run by the
 * notifications app (notifications/) for runs that notify through Nexus, and by the task worker otherwise. The
 * app makes a first attempt at once, in its Nexus handler, outside any activity: it passes the attempt's
 * timeout and cancellation signal (`NotifyAttempt`), which an activity takes from its context.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { activityCaller } from './caller';
import { heartbeating } from './heartbeat';
import { ACTIVITY_TIMEOUT_GRACE_MS } from '../workflows/shared/activity-timeouts';
import type { RedisConnection } from '../common/redis';

export interface NotifyDeps {
  redis: RedisConnection;
  keyPrefix: string;
  webhookUrl?: string;
  timeoutMs: number;
  /** Probability that an attempt fails on purpose (NOTIFY_FAILURE_RATE), for demos and drills. */
  failureRate: number;
  /** Source of randomness for failureRate; injectable so tests decide outcomes. */
  random?: () => number;
}

export interface NotifyAssigneeInput {
  task_id: string;
  assignee: string;
  title: string;
  /**
   * Set by the notifications app (notifications/api.ts): the processing run that asks and its key. Unset when
   * the processing workflow calls this activity itself, whose caller and activity id give both.
   */
  workflow_id?: string;
  idempotency_key?: string;
  /** The asking run's namespace (the notifications app serves every tenant's): recorded with the notification. */
  namespace?: string;
}

export interface NotifyAssigneeResult {
  notified: true;
  assignee: string;
  notified_at: string;
  channel: 'webhook' | 'redis';
}

/** An attempt made outside an activity (the notifications app's first, in its Nexus handler): its time and its cancellation. */
export interface NotifyAttempt {
  timeoutMs: number;
  signal: AbortSignal;
}

/** Redis hash holding an assignee's notifications: field = processing workflow id, value = JSON. */
export const notificationsKey = (prefix: string, assignee: string) => `${prefix}notifications:${assignee}`;

/**
 * The webhook's timeout: NOTIFY_TIMEOUT_MS, within what this attempt was given (a run that started under an
 * older, shorter setting keeps its timeout; the server cuts an attempt short to what is left of its run's
 * time), so the webhook's own timeout answers before Temporal's: by the grace period, or half of a short attempt.
 */
function attemptTimeoutMs(configured: number): number {
  const given = Context.current().info.startToCloseTimeoutMs;
  return Math.max(100, Math.floor(Math.min(configured, given - Math.min(ACTIVITY_TIMEOUT_GRACE_MS, given / 2))));
}

/** `work`, or a retryable NotifyUnavailable failure when the attempt's time runs out or it is cancelled first. */
async function within<T>(work: Promise<T>, attempt: NotifyAttempt, message: string): Promise<T> {
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const cut = new Promise<never>((_, reject) => {
    const fail = (why: string) => reject(ApplicationFailure.retryable(`${message} ${why}`, 'NotifyUnavailable'));
    timer = setTimeout(() => fail(`within ${attempt.timeoutMs} ms`), attempt.timeoutMs);
    if (attempt.signal.aborted) fail('(cancelled)');
    attempt.signal.addEventListener('abort', () => fail('(cancelled)'), { once: true });
  });
  try {
    return await Promise.race([work, cut]);
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    throw ApplicationFailure.retryable(`${message}: ${err instanceof Error ? err.message : String(err)}`, 'NotifyUnavailable');
  } finally {
    clearTimeout(timer);
  }
}

export function createNotifyActivities(deps: NotifyDeps) {
  const random = deps.random ?? Math.random;

  return {
    /** As an activity `attempt` is unset; called outside one, the input names the caller and its key. */
    async notifyAssignee(input: NotifyAssigneeInput, attempt?: NotifyAttempt): Promise<NotifyAssigneeResult> {
      const caller = input.workflow_id !== undefined && input.idempotency_key !== undefined ? undefined : activityCaller();
      const workflowId = input.workflow_id ?? caller!.workflowId;
      const idempotencyKey = input.idempotency_key ?? caller!.idempotencyKey;
      const notifiedAt = new Date().toISOString();
      if (deps.failureRate > 0 && random() < deps.failureRate) {
        throw ApplicationFailure.retryable(`Notification service unavailable for ${input.assignee}`, 'NotifyUnavailable');
      }
      const notification = {
        task_id: input.task_id,
        assignee: input.assignee,
        title: input.title,
        workflow_id: workflowId,
        ...(input.namespace !== undefined ? { namespace: input.namespace } : {}),
        notified_at: notifiedAt,
      };

      if (deps.webhookUrl !== undefined) {
        const timeoutMs = attempt?.timeoutMs ?? attemptTimeoutMs(deps.timeoutMs);
        const cancelled = attempt?.signal ?? Context.current().cancellationSignal;
        const request = fetch(deps.webhookUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': idempotencyKey,
          },
          body: JSON.stringify(notification),
          signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), cancelled]),
        });
        const response = await (attempt ? request : heartbeating(request)).catch((err: unknown) => {
          const reason = err instanceof Error && err.name === 'TimeoutError' ? `webhook did not answer within ${timeoutMs} ms` : err instanceof Error ? err.message : String(err);
          throw ApplicationFailure.retryable(`Notification service unavailable for ${input.assignee}: ${reason}`, 'NotifyUnavailable');
        });
        await response.body?.cancel();
        if (!response.ok) {
          throw ApplicationFailure.retryable(
            `Notification service unavailable for ${input.assignee}: webhook answered ${response.status}`,
            'NotifyUnavailable',
          );
        }
        return { notified: true, assignee: input.assignee, notified_at: notifiedAt, channel: 'webhook' };
      }

      // Two tenants' runs of the same task id are two notifications: another namespace's are kept under it.
      const field = input.namespace !== undefined && input.namespace !== 'default' ? `${input.namespace}/${workflowId}` : workflowId;
      const write = deps.redis.hset(notificationsKey(deps.keyPrefix, input.assignee), field, JSON.stringify(notification));
      // Outside an activity nothing else bounds the attempt: a Redis that stalls fails it in its time. A write
      // that lands later is the same field with the same record.
      await (attempt ? within(write, attempt, `Notification service unavailable for ${input.assignee}: Redis did not answer`) : write);
      return { notified: true, assignee: input.assignee, notified_at: notifiedAt, channel: 'redis' };
    },
  };
}
