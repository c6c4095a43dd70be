/**
 * What a compensation puts back. Processing a task again for someone else, and failing, must leave the
 * task as it was before that run (the previous assignee, status and deadline), and must not undo what
 * someone else changed meanwhile: then the run says the compensation was refused.
 *
 * Faults are injected around the real activities, against the real entity: a step whose change lands and
 * whose call then fails (as when its activity times out after the update applied), a run cancelled with
 * `temporal workflow cancel` while a step is under way, and a worker SIGKILLed during the compensation.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Activities } from '../activities';
import type { Task, TaskProcessingResult } from '../common/schemas';
import { Harness, eventually, seedTask, uniqueId } from './helpers/harness';
import { exitOf, harnessEnv, startServiceProcess } from './helpers/processes';
import { startWebhook, type TestWebhook } from './helpers/webhook';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the wrapped activities do in the current test. */
const plan: {
  /** This step's change lands, then its call fails. */
  failAfter?: string;
  /** This step first calls `onEnter`, then waits `holdMs`, then does its work. */
  hold?: string;
  holdMs?: number;
  onEnter?: () => Promise<void>;
} = {};

/** The run's steps as activities: validation (local), the hand-over (create, assign, deadline), the notification. */
const STEPS = ['validateTask', 'handOverTask', 'notifyAssignee'] as const;

function wrap(real: Activities): Partial<Activities> {
  const wrapped: Record<string, (...args: never[]) => Promise<unknown>> = {};
  for (const name of STEPS) {
    const step = real[name] as (...args: never[]) => Promise<unknown>;
    // Every argument passed on: the notifications app's first attempt, outside an activity, passes its time in a second.
    wrapped[name] = async (...args) => {
      if (plan.hold === name) {
        await plan.onEnter?.();
        await sleep(plan.holdMs ?? 1_500);
      }
      const result = await step(...args);
      if (plan.failAfter === name) throw ApplicationFailure.nonRetryable(`${name}: the call failed after its change landed`);
      return result;
    };
  }
  return wrapped as Partial<Activities>;
}

let webhook: TestWebhook;
let h: Harness;
beforeAll(async () => {
  webhook = await startWebhook();
  h = await Harness.start({ env: { NOTIFY_WEBHOOK_URL: webhook.url }, wrapActivities: wrap });
});
afterAll(async () => {
  await h?.close();
  webhook?.close();
});

const fieldsOf = (task: Task) => ({ assignee: task.assignee, status: task.status, deadline: task.deadline });
const readTask = async (taskId: string) => (await h.getJson(`/tasks/${taskId}`)).body as unknown as Task;
const handle = (taskId: string) => h.client.workflow.getHandle<() => Promise<TaskProcessingResult>>(`task-workflow-${taskId}`);

function processAgain(taskId: string, overrides: Record<string, unknown> = {}): Promise<TaskProcessingResult> {
  return h.client.workflow.execute('TaskProcessingWorkflow', {
    workflowId: `task-workflow-${taskId}`,
    taskQueue: h.config.TASK_QUEUE,
    args: [seedTask(taskId, { assignee: 'bob@example.com', deadline_seconds: 60, ...overrides })],
  }) as Promise<TaskProcessingResult>;
}

/** A task assigned to alice with a one-hour deadline, by a completed processing run. */
async function alicesTask(name: string): Promise<{ taskId: string; before: Task }> {
  for (const key of Object.keys(plan)) delete plan[key as keyof typeof plan];
  webhook.status = 200;
  const taskId = uniqueId(name);
  const result = await processAgain(taskId, { assignee: 'alice@example.com', deadline_seconds: 3600 });
  expect(result.status).toBe('completed');
  return { taskId, before: await readTask(taskId) };
}

/** Processes the task again for bob with his notification failing; `meanwhile` runs once, as it is first tried. */
function processFailingAfter(taskId: string, meanwhile: () => Promise<void>): Promise<TaskProcessingResult> {
  webhook.status = 500;
  plan.hold = 'notifyAssignee';
  plan.holdMs = 0;
  plan.onEnter = async () => {
    plan.hold = undefined;
    await meanwhile();
  };
  return processAgain(taskId);
}

describe('a failed handover puts back what the run changed', () => {
  it.each([
    ['validateTask', 0],
    ['handOverTask', 3],
    ['notifyAssignee', 3],
  ] as const)('a failure at %s after its change landed: the task is as before, %i version(s) on', async (step, versions) => {
    const { taskId, before } = await alicesTask(`fail-${step}`);
    plan.failAfter = step;
    const result = await processAgain(taskId);
    expect(result).toEqual({
      task_id: taskId,
      status: 'failed',
      message: `Processing failed, compensation applied: ${step}: the call failed after its change landed`,
    });
    const after = await readTask(taskId);
    expect(fieldsOf(after)).toEqual(fieldsOf(before));
    // The run's changes and the one change that undid them; nothing else.
    expect(after.version).toBe(before.version + versions);
  });

  it('a new task whose handover fails is left pending, unassigned and without a deadline', async () => {
    webhook.status = 500;
    const taskId = uniqueId('fail-new');
    const result = await processAgain(taskId);
    expect(result.status).toBe('failed');
    expect(result.message).toMatch(/^Processing failed, compensation applied: Notification service unavailable for bob@example.com/);
    expect(await readTask(taskId)).toMatchObject({ status: 'pending', assignee: null, deadline: null, version: 4 });
  });

  it('the deadline the run set firing during the notification retries does not block the compensation', async () => {
    for (const key of Object.keys(plan)) delete plan[key as keyof typeof plan];
    webhook.status = 500;
    const taskId = uniqueId('fail-own-deadline');
    // Three attempts 1 s then 2 s apart: the 1 s deadline fires while they are tried.
    const result = await processAgain(taskId, { deadline_seconds: 1 });
    expect(result.status).toBe('failed');
    expect(result.message).toMatch(/^Processing failed, compensation applied: Notification service unavailable/);
    // Created, assigned, deadline, overdue, and the revert.
    expect(await readTask(taskId)).toMatchObject({ status: 'pending', assignee: null, deadline: null, version: 5 });
  });

  it('a change by someone else meanwhile is kept, and the run says the compensation was refused', async () => {
    const { taskId } = await alicesTask('refused');
    // Bob starts working on it while his notification is being tried.
    const result = await processFailingAfter(taskId, async () => {
      expect((await h.fetch(`/tasks/${taskId}/status?status=in_progress`, { method: 'PUT' })).status).toBe(200);
    });
    expect(result.status).toBe('failed');
    expect(result.message).toMatch(
      new RegExp(`^Processing failed; compensation refused \\(Task ${taskId} changed after the changes to revert \\(now version \\d+\\); nothing reverted\\): Notification service unavailable`),
    );
    expect(await readTask(taskId)).toMatchObject({ assignee: 'bob@example.com', status: 'in_progress' });
  });

  it('a task deleted meanwhile: the run says the compensation was refused, naming why', async () => {
    const { taskId } = await alicesTask('deleted-meanwhile');
    const result = await processFailingAfter(taskId, async () => {
      expect((await h.fetch(`/tasks/${taskId}`, { method: 'DELETE' })).status).toBe(204);
    });
    expect(result.status).toBe('failed');
    expect(result.message).toMatch(new RegExp(`^Processing failed; compensation refused \\(Task ${taskId} not found\\): Notification service unavailable`));
  });
});

describe('a cancelled run still compensates', () => {
  async function cancelWithCli(workflowId: string): Promise<void> {
    await promisify(execFile)(inject('temporalCli'), [
      'workflow', 'cancel', '--workflow-id', workflowId, '--address', inject('temporalAddress'),
    ]);
  }

  it.each(STEPS)('cancelled during %s: CANCELED, and the task as it was before the run', async (step) => {
    const { taskId, before } = await alicesTask(`cancel-${step}`);
    // The notification fails once the run is cancelled, so nothing completes the handover meanwhile.
    if (step === 'notifyAssignee') webhook.status = 500;
    plan.hold = step;
    plan.holdMs = 1_500;
    plan.onEnter = () => cancelWithCli(`task-workflow-${taskId}`);
    const outcome = await processAgain(taskId).catch((err: unknown) => err);
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    expect((await handle(taskId).describe()).status.name).toBe('CANCELLED');
    expect(fieldsOf(await readTask(taskId))).toEqual(fieldsOf(before));
  });

  it('cancelled during the hand-over of a new task: CANCELLED, and the task it made pending, unassigned, without a deadline', async () => {
    for (const key of Object.keys(plan)) delete plan[key as keyof typeof plan];
    const taskId = uniqueId('cancel-new');
    // The hand-over's update lands 1.5 s after the cancellation, as a call under way (resending) would.
    plan.hold = 'handOverTask';
    plan.holdMs = 1_500;
    plan.onEnter = () => cancelWithCli(`task-workflow-${taskId}`);
    const outcome = await processAgain(taskId).catch((err: unknown) => err);
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    expect((await handle(taskId).describe()).status.name).toBe('CANCELLED');
    // Whatever the run's call still did has landed by now; the compensation came after it.
    await sleep(2_500);
    expect(await readTask(taskId)).toMatchObject({ status: 'pending', assignee: null, deadline: null });
  });
});

describe('a worker killed during the compensation', () => {
  it('finishes the compensation on the next worker, exactly once', { timeout: 90_000 }, async () => {
    const failing = await startWebhook({ status: 500 });
    const k = await Harness.start({ env: { NOTIFY_WEBHOOK_URL: failing.url }, worker: false, api: false });
    const env = { ...harnessEnv(k), NOTIFY_WEBHOOK_URL: failing.url, WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath') };
    let worker = startServiceProcess('worker/main.ts', env);
    try {
      const taskId = uniqueId('kill-compensation');
      const first = await k.client.workflow.execute('TaskProcessingWorkflow', {
        workflowId: `task-workflow-${taskId}`,
        taskQueue: k.config.TASK_QUEUE,
        args: [seedTask(taskId, { assignee: 'alice@example.com', deadline_seconds: 3600 })],
      }).catch(() => undefined);
      void first;
      // The first run failed too (the webhook always fails), leaving a new task as the seed has it.
      const base = (await k.client.workflow.getHandle(`task-entity-${taskId}`).query('getTask')) as Task;

      const run = k.client.workflow.execute('TaskProcessingWorkflow', {
        workflowId: `task-workflow-${taskId}`,
        taskQueue: k.config.TASK_QUEUE,
        args: [seedTask(taskId, { assignee: 'bob@example.com', deadline_seconds: 60 })],
      }) as Promise<TaskProcessingResult>;
      // Kill the worker as soon as the compensation is scheduled.
      await eventually(
        async () => {
          const history = await k.client.workflow.getHandle(`task-workflow-${taskId}`).fetchHistory();
          return (history.events ?? []).some((e) => {
            const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
            return type === 'revertChanges' || type === 'unassignTask';
          });
        },
        (scheduled) => scheduled,
        { timeoutMs: 30_000, intervalMs: 20 },
      );
      worker.kill('SIGKILL');
      await exitOf(worker);
      worker = startServiceProcess('worker/main.ts', env);

      const result = await run;
      expect(result.message).toMatch(/^Processing failed, compensation applied: /);
      const after = (await k.client.workflow.getHandle(`task-entity-${taskId}`).query('getTask')) as Task;
      expect(fieldsOf(after)).toEqual(fieldsOf(base));
      // Assign, deadline, and one revert: the compensation applied once.
      expect(after.version).toBe(base.version + 3);
    } finally {
      worker.kill('SIGKILL');
      await exitOf(worker);
      await k.close();
      failing.close();
    }
  });
});
