/**
 * Notifications as a separate app, called across apps over Nexus (notifications/): a processing run's notify step
 * is an operation on the `notifications` service behind a Nexus endpoint, served by the notifications app's own
 * worker on its own namespace and task queue. Against the real server: the operation answered at once, or
 * carried on by its linked run when the first attempt does not deliver, the seed's retry policy and one Idempotency-Key per run, the app down (the run waits, then compensates when
 * NOTIFY_NEXUS_TIMEOUT_MS passes, or completes when the app is back), and the app's process SIGKILLed mid-operation.
 */
import type { ChildProcess } from 'node:child_process';
import { temporal } from '@temporalio/proto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../scripts/dev-server';
import type { TaskProcessingResult } from '../common/schemas';
import { notificationKey, notificationRunId } from '../notifications/api';
import { Harness, eventually, seedTask, uniqueId } from './helpers/harness';
import { exitOf, harnessEnv, startServiceProcess } from './helpers/processes';
import { startWebhook, type TestWebhook } from './helpers/webhook';

const EventType = temporal.api.enums.v1.EventType;

const process = (h: Harness, taskId: string, overrides: Record<string, unknown> = {}) =>
  h.client.workflow.start('TaskProcessingWorkflow', {
    workflowId: `task-workflow-${taskId}`,
    taskQueue: h.config.TASK_QUEUE,
    args: [seedTask(taskId, overrides)],
  });

async function historyOf(h: Harness, workflowId: string) {
  return (await h.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
}

describe('the notify step through the notifications app', () => {
  let h: Harness;
  let webhook: TestWebhook;
  beforeAll(async () => {
    webhook = await startWebhook();
    h = await Harness.start({ env: { NOTIFY_WEBHOOK_URL: webhook.url } });
  });
  afterAll(async () => {
    await h?.close();
    webhook?.close();
  });
  afterEach(() => {
    webhook.status = 200;
    webhook.delayMs = 0;
  });

  it('is a Nexus operation on the endpoint, delivered at once by the app: no notification run when the first attempt delivers', async () => {
    const taskId = uniqueId('nexus-notify');
    const run = await process(h, taskId);
    const result = (await run.result()) as TaskProcessingResult;
    expect(result).toEqual({ task_id: taskId, status: 'completed', message: 'Task assigned to alice@example.com with deadline reminder' });

    const events = await historyOf(h, run.workflowId);
    const scheduled = events.find((e) => e.eventType === EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED)!;
    expect(scheduled.nexusOperationScheduledEventAttributes).toMatchObject({ endpoint: h.config.NOTIFY_NEXUS_ENDPOINT, service: 'notifications', operation: 'notifyAssignee' });
    expect(events.some((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.activityTaskScheduledEventAttributes?.activityType?.name === 'notifyAssignee')).toBe(false);
    // Answered within the request: completed, never started as an asynchronous operation.
    expect(events.some((e) => e.eventType === EventType.EVENT_TYPE_NEXUS_OPERATION_STARTED)).toBe(false);
    const completed = events.find((e) => e.eventType === EventType.EVENT_TYPE_NEXUS_OPERATION_COMPLETED)!;
    expect(completed).toBeDefined();
    // No run in the app's namespace: the webhook got the one request, keyed by the run.
    await expect((await h.notificationRun(run.workflowId, run.firstExecutionRunId)).describe()).rejects.toThrow(/not found/i);
    expect([...webhook.keysByTask.get(taskId)!]).toEqual([notificationKey(run.workflowId, run.firstExecutionRunId)]);
    expect(webhook.deliveries.get(notificationKey(run.workflowId, run.firstExecutionRunId))).toBe(1);
  });

  it("keeps the seed's policy across the call: the first attempt fails at once, a linked notification run in the app namespace makes the second and third under one Idempotency-Key", async () => {
    const taskId = uniqueId('nexus-retry');
    const before = webhook.answered.length;
    webhook.status = 503;
    const run = await process(h, taskId);
    await eventually(async () => webhook.answered.length - before, (n) => n >= 2, { timeoutMs: 15_000, intervalMs: 50 });
    webhook.status = 200;
    expect(((await run.result()) as TaskProcessingResult).status).toBe('completed');
    expect(webhook.answered.slice(before)).toEqual([503, 503, 200]);
    expect(webhook.keysByTask.get(taskId)?.size).toBe(1);

    const events = await historyOf(h, run.workflowId);
    const started = events.find((e) => e.eventType === EventType.EVENT_TYPE_NEXUS_OPERATION_STARTED)!;
    // The Web UI follows this link from the operation to the run that carried it on.
    const linked = started.links?.map((link) => link.workflowEvent).find(Boolean);
    const notificationId = notificationRunId(run.workflowId, run.firstExecutionRunId);
    expect(linked).toMatchObject({ namespace: h.config.NOTIFICATIONS_NAMESPACE, workflowId: notificationId });
    const notification = await h.client.connection.workflowService.describeWorkflowExecution({
      namespace: h.config.NOTIFICATIONS_NAMESPACE,
      execution: { workflowId: notificationId },
    });
    expect(notification.workflowExecutionInfo?.type?.name).toBe('NotifyAssigneeWorkflow');
    expect(notification.workflowExecutionInfo?.taskQueue).toBe(h.config.NOTIFICATIONS_TASK_QUEUE);
    expect(notification.workflowExecutionInfo?.status).toBe(temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED);
    // The run waited the policy's first second, then its activity made attempts 2 and 3 (the policy's last, 2 s on).
    const runEvents = (await (await h.notificationRun(run.workflowId, run.firstExecutionRunId)).fetchHistory()).events ?? [];
    expect(runEvents.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED).map((e) => Number(e.timerStartedEventAttributes?.startToFireTimeout?.seconds))).toEqual([1]);
    expect(runEvents.find((e) => e.activityTaskScheduledEventAttributes)?.activityTaskScheduledEventAttributes?.retryPolicy).toMatchObject({ maximumAttempts: 2, backoffCoefficient: 2 });
    expect(runEvents.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt)).toEqual([2]);
  });

  it('compensates when the notification fails for good (three attempts), with the failure named', async () => {
    const taskId = uniqueId('nexus-fails');
    webhook.status = 500;
    const result = (await (await process(h, taskId)).result()) as TaskProcessingResult;
    expect(result.status).toBe('failed');
    expect(result.message).toMatch(/^Processing failed, compensation applied: Notification service unavailable for alice@example.com: webhook answered 500/);
    expect((await h.getJson(`/tasks/${taskId}`)).body).toMatchObject({ status: 'pending', assignee: null, deadline: null });
  });
});

describe("a first attempt that fails for another reason than the webhook's answer", () => {
  let h: Harness;
  /** The next attempts that fail as a lost Redis connection would: a plain error, not the activity's NotifyUnavailable. */
  let failing = 0;
  beforeAll(async () => {
    h = await Harness.start({
      wrapActivities: (real) => ({
        notifyAssignee: async (...args: Parameters<typeof real.notifyAssignee>) => {
          if (failing > 0) {
            failing--;
            throw new Error('Connection is closed.');
          }
          return real.notifyAssignee(...args);
        },
      }),
    });
  });
  afterAll(() => h?.close());

  it("still counts as the policy's first: the run waits 1 s and makes the two attempts left", async () => {
    failing = 1;
    const taskId = uniqueId('nexus-redis-lost');
    const run = await process(h, taskId);
    expect(((await run.result()) as TaskProcessingResult).status).toBe('completed');
    const runEvents = (await (await h.notificationRun(run.workflowId, run.firstExecutionRunId)).fetchHistory()).events ?? [];
    expect(runEvents.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)).toHaveLength(1);
    expect(runEvents.find((e) => e.activityTaskScheduledEventAttributes)?.activityTaskScheduledEventAttributes?.retryPolicy).toMatchObject({ maximumAttempts: 2 });
  });
});

describe('the notifications app down', () => {
  let h: Harness;
  /** A harness that waits for the app the default 5 minutes. */
  let patient: Harness;
  beforeAll(async () => {
    h = await Harness.start({ env: { NOTIFY_NEXUS_TIMEOUT_MS: '4000' } });
    patient = await Harness.start();
  });
  afterAll(async () => {
    await h?.close();
    await patient?.close();
  });

  it('a run waits with its operation pending, then compensates when NOTIFY_NEXUS_TIMEOUT_MS has passed', async () => {
    await h.stopNotifications();
    const taskId = uniqueId('nexus-down');
    const run = await process(h, taskId);
    const pending = await eventually(
      async () => (await run.describe()).raw.pendingNexusOperations ?? [],
      (ops) => ops.length === 1,
      { timeoutMs: 10_000 },
    );
    expect(pending[0]).toMatchObject({ endpoint: h.config.NOTIFY_NEXUS_ENDPOINT, operation: 'notifyAssignee' });
    const result = (await run.result()) as TaskProcessingResult;
    expect(result).toEqual({
      task_id: taskId,
      status: 'failed',
      message: 'Processing failed, compensation applied: Notification service unavailable for alice@example.com: the notifications app did not answer within 4s',
    });
    expect((await h.getJson(`/tasks/${taskId}`)).body).toMatchObject({ status: 'pending', assignee: null, deadline: null });
  });

  it('a notification still trying when its run gives up stops then: nothing is delivered after the compensation', { timeout: 60_000 }, async () => {
    const slow = await startWebhook({ status: 500, delayMs: 2_500 });
    const giving = await Harness.start({ env: { NOTIFY_NEXUS_TIMEOUT_MS: '4000', NOTIFY_WEBHOOK_URL: slow.url } });
    try {
      const taskId = uniqueId('nexus-gives-up');
      const run = await process(giving, taskId);
      const result = (await run.result()) as TaskProcessingResult;
      // Its attempts were cut to the time left (the webhook's timeout said so), or the wait ran out first.
      expect(result.message).toMatch(/^Processing failed, compensation applied: Notification service unavailable for alice@example.com: (webhook did not answer within \d+ ms|the notifications app did not answer within 4s)$/);
      const notification = await giving.notificationRun(run.workflowId, run.firstExecutionRunId);
      expect(['TIMED_OUT', 'FAILED']).toContain((await eventually(() => notification.describe(), (d) => d.status.name !== 'RUNNING')).status.name);
      // Its retries would have gone on well past the wait (2.5 s each, 1 s and 2 s apart): none came.
      const seen = slow.received;
      await new Promise((r) => setTimeout(r, 6_000));
      expect(slow.received).toBe(seen);
      expect(seen).toBeLessThanOrEqual(2);
    } finally {
      await giving.close();
      slow.close();
    }
  });

  it('a run that waits completes once the app is back within the wait', async () => {
    await patient.stopNotifications();
    const taskId = uniqueId('nexus-back');
    const run = await process(patient, taskId);
    await eventually(async () => (await run.describe()).raw.pendingNexusOperations?.length ?? 0, (n) => n === 1, { timeoutMs: 10_000 });
    await patient.startNotifications();
    expect(((await run.result()) as TaskProcessingResult).status).toBe('completed');
  });

  it('a run whose endpoint does not exist waits at its notify step, and goes on once the endpoint is made', { timeout: 90_000 }, async () => {
    await patient.deleteNotifyEndpoint();
    const taskId = uniqueId('nexus-no-endpoint');
    const run = await process(patient, taskId);
    // Its workflow task cannot schedule the operation; nothing is compensated meanwhile.
    await eventually(
      async () => (await historyOf(patient, run.workflowId)).some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED),
      Boolean,
      { timeoutMs: 20_000 },
    );
    expect((await run.describe()).status.name).toBe('RUNNING');
    await patient.createNotifyEndpoint();
    expect(((await run.result()) as TaskProcessingResult).status).toBe('completed');
  });
});

describe('the notifications app SIGKILLed mid-operation', () => {
  let h: Harness;
  let webhook: TestWebhook;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    webhook = await startWebhook();
    h = await Harness.start({ env: { NOTIFY_WEBHOOK_URL: webhook.url }, notifications: false });
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await h?.close();
    webhook?.close();
  });

  it('the next process takes the operation over: the run completes, one notification run, one Idempotency-Key', { timeout: 90_000 }, async () => {
    const port = await freePort();
    const env = { ...harnessEnv(h), NOTIFY_WEBHOOK_URL: webhook.url, NOTIFICATIONS_HEALTH_PORT: String(port), NOTIFICATIONS_WORKFLOW_BUNDLE_PATH: inject('notificationsBundlePath') };
    const ready = () => eventually(() => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0), (s) => s === 200, { timeoutMs: 30_000 });
    children.push(startServiceProcess('notifications/main.ts', env));
    await ready();
    // The first attempt, at once, is refused; the run's attempt hangs, and the process dies while it does.
    webhook.status = 503;
    const taskId = uniqueId('nexus-kill');
    const run = await process(h, taskId);
    await eventually(async () => webhook.answered.length, (n) => n >= 1, { timeoutMs: 30_000, intervalMs: 20 });
    webhook.status = 200;
    webhook.delayMs = 30_000;
    await eventually(async () => webhook.received, (n) => n >= 2, { timeoutMs: 30_000, intervalMs: 50 });
    children[0]!.kill('SIGKILL');
    await exitOf(children[0]!);
    webhook.delayMs = 0;
    children.push(startServiceProcess('notifications/main.ts', env));
    await ready();
    expect(((await run.result()) as TaskProcessingResult).status).toBe('completed');

    const key = notificationKey(run.workflowId, run.firstExecutionRunId);
    expect([...webhook.keysByTask.get(taskId)!]).toEqual([key]);
    const listed = () =>
      h.client.connection.workflowService.listWorkflowExecutions({
        namespace: h.config.NOTIFICATIONS_NAMESPACE,
        query: `WorkflowId = '${notificationRunId(run.workflowId, run.firstExecutionRunId)}' AND ExecutionStatus = 'Completed'`,
      });
    // Visibility follows the run's end by a moment; one run, never two.
    expect((await eventually(listed, (runs) => (runs.executions?.length ?? 0) > 0)).executions).toHaveLength(1);
  });
});
