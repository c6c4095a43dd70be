/**
 * Saga compensation: real notification failures end with a new task back as created (`pending`,
 * unassigned, no deadline); mocked activities pin down the workflow's own logic (which compensations
 * run, in which order). test/compensation.test.ts covers what they put back for a task that existed.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/activity';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Task } from '../common/schemas';
import { getTaskQuery } from '../entities/task/messages';
import { TaskProcessingWorkflow } from '../workflows/task-processing';
import { Harness, seedTask, uniqueId } from './helpers/harness';

/** A webhook that answers every request with `status` and remembers what it got. */
async function startWebhook(status: number): Promise<{ server: Server; url: string; requests: IncomingHttpHeaders[] }> {
  const requests: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    requests.push(req.headers);
    req.resume();
    res.writeHead(status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`, requests };
}

describe('notification failure ends in compensation (real activities)', () => {
  let webhook: Awaited<ReturnType<typeof startWebhook>>;
  let h: Harness;
  beforeAll(async () => {
    webhook = await startWebhook(500);
    h = await Harness.start({ env: { NOTIFY_WEBHOOK_URL: webhook.url }, api: false });
  });
  afterAll(async () => {
    await h?.close();
    webhook?.server.close();
  });

  it('retries the webhook 3 times with one idempotency key, then puts the new task back as created', async () => {
    const taskId = uniqueId('task-002');
    const result = await h.client.workflow.execute(TaskProcessingWorkflow, {
      workflowId: `task-workflow-${taskId}`,
      taskQueue: h.config.TASK_QUEUE,
      args: [seedTask(taskId, { assignee: 'bob@example.com', deadline_seconds: 3600 })],
    });
    expect(result).toEqual({
      task_id: taskId,
      status: 'failed',
      message: 'Processing failed, compensation applied: Notification service unavailable for bob@example.com: webhook answered 500',
    });
    expect(webhook.requests).toHaveLength(3);
    expect(new Set(webhook.requests.map((r) => r['idempotency-key'])).size).toBe(1);

    const task = (await h.client.workflow.getHandle(`task-entity-${taskId}`).query(getTaskQuery)) as Task;
    expect(task).toMatchObject({ status: 'pending', assignee: null, deadline: null });
  });
});

describe('NOTIFY_FAILURE_RATE (the seed demo failure), driven deterministically', () => {
  let h: Harness;
  beforeAll(async () => {
    // random() = 0 is below any positive rate: every attempt fails.
    h = await Harness.start({ env: { NOTIFY_FAILURE_RATE: '0.2' }, random: () => 0, api: false });
  });
  afterAll(() => h?.close());

  it('fails with the seed message after 3 attempts and compensates', async () => {
    const taskId = uniqueId('demo');
    const result = await h.client.workflow.execute(TaskProcessingWorkflow, {
      workflowId: `task-workflow-${taskId}`,
      taskQueue: h.config.TASK_QUEUE,
      args: [seedTask(taskId, { assignee: 'bob@example.com' })],
    });
    expect(result.message).toBe('Processing failed, compensation applied: Notification service unavailable for bob@example.com');
    // The app made the first attempt at once, then its notification run the other two: one started event for
    // the run's activity, on its second attempt (the policy's third).
    const history = await (await h.notificationRun(`task-workflow-${taskId}`)).fetchHistory();
    const notifyAttempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
    expect(notifyAttempts).toEqual([2]);
  });
});

describe('which compensations run, step by step (mocked activities)', () => {
  const calls: string[] = [];
  const failAt = new Set<string>();
  const step = (name: string) => async () => {
    calls.push(name);
    if (failAt.has(name)) throw ApplicationFailure.nonRetryable(`${name} broke`);
    return {} as never;
  };
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start({
      api: false,
      activities: {
        handOverTask: step('handOverTask'),
        notifyAssignee: step('notifyAssignee'),
        revertChanges: step('revertChanges'),
      },
    });
  });
  afterAll(() => h?.close());

  it.each([
    // The compensation is registered before the hand-over it undoes: its changes may have landed when it failed.
    ['handOverTask', ['handOverTask', 'revertChanges'], 'handOverTask broke'],
    ['notifyAssignee', ['handOverTask', 'notifyAssignee', 'revertChanges'], 'notifyAssignee broke'],
  ])('a failure at %s runs %j', async (failing, expectedCalls, reason) => {
    calls.length = 0;
    failAt.clear();
    failAt.add(failing);
    const taskId = uniqueId('mock');
    const result = await h.client.workflow.execute(TaskProcessingWorkflow, {
      workflowId: `task-workflow-${taskId}`,
      taskQueue: h.config.TASK_QUEUE,
      args: [seedTask(taskId)],
    });
    expect(calls).toEqual(expectedCalls);
    expect(result).toEqual({ task_id: taskId, status: 'failed', message: `Processing failed, compensation applied: ${reason}` });
  });

  it('still answers "failed" when the compensation itself fails', async () => {
    calls.length = 0;
    failAt.clear();
    failAt.add('notifyAssignee').add('revertChanges');
    const taskId = uniqueId('mock');
    const result = await h.client.workflow.execute(TaskProcessingWorkflow, {
      workflowId: `task-workflow-${taskId}`,
      taskQueue: h.config.TASK_QUEUE,
      args: [seedTask(taskId)],
    });
    expect(calls.at(-1)).toBe('revertChanges');
    expect(result).toEqual({ task_id: taskId, status: 'failed', message: 'Processing failed; compensation failed (revertChanges): notifyAssignee broke' });
  });
});

describe('Compensations helper', () => {
  it('runs compensations newest first and goes on past a failing one', async () => {
    const order: string[] = [];
    const taskQueue = uniqueId('saga-probe');
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const worker = await Worker.create({
      connection,
      taskQueue,
      workflowsPath: require.resolve('./workflows/saga-probe.ts'),
      activities: {
        async undo(step: string) {
          order.push(step);
          if (step === 'second') throw ApplicationFailure.nonRetryable('second cannot be undone');
        },
      },
    });
    const h = await Harness.start({ worker: false, api: false });
    try {
      const failed = await worker.runUntil(
        h.client.workflow.execute('SagaProbeWorkflow', { workflowId: uniqueId('probe'), taskQueue, args: [['first', 'second', 'third']] }),
      );
      expect(order).toEqual(['third', 'second', 'first']);
      expect(failed).toEqual(['second']);
    } finally {
      await h.close();
      await connection.close();
    }
  });
});
