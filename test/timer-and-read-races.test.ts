/**
 * Races between a timer and a change, and between a read and a new run, made certain rather than hoped for.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../api/app';
import { setDeadlineUpdate } from '../entities/task/messages';
import { createEntity, entity, readTask } from './helpers/entity';
import { Harness, eventually, seedTask, uniqueId } from './helpers/harness';
import { startWebhook, type TestWebhook } from './helpers/webhook';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let webhook: TestWebhook;
let h: Harness;
beforeAll(async () => {
  webhook = await startWebhook();
  h = await Harness.start({ env: { NOTIFY_WEBHOOK_URL: webhook.url } });
});
afterAll(async () => {
  await h?.close();
  webhook?.close();
});

describe('deadline timer', () => {
  it('does not mark a task overdue when its deadline was moved in the activation where the timer fired', async () => {
    const taskId = uniqueId('moved');
    await createEntity(h, taskId);
    await entity(h, taskId).executeUpdate(setDeadlineUpdate, { args: [{ deadline_seconds: 1 }] });
    // The timer fires while no worker runs; the deadline is moved before one is back, so the worker gets
    // both in one workflow task.
    await h.stopWorker();
    await sleep(2_000);
    const moving = entity(h, taskId).executeUpdate(setDeadlineUpdate, { args: [{ deadline_seconds: 600 }] });
    await sleep(500);
    await h.startWorker();
    expect((await moving).status).toBe('pending');
    await sleep(500);
    expect(await readTask(h, taskId)).toMatchObject({ status: 'pending' });
  });
});

describe('GET /workflows/{workflow_id}', () => {
  it('answers for the run it described when a new run starts between its describe and its result', async () => {
    const taskId = uniqueId('new-run');
    const workflowId = `task-workflow-${taskId}`;
    expect((await h.postJson('/tasks/process', seedTask(taskId))).status).toBe(200);
    await eventually(() => h.getJson(`/workflows/${workflowId}`), (r) => r.body.status === 'COMPLETED');

    // A client that starts the next run right after the route's describe returns: the race, made certain.
    webhook.delayMs = 15_000;
    const startNextRun = () =>
      h.client.workflow.start('TaskProcessingWorkflow', {
        workflowId,
        taskQueue: h.config.TASK_QUEUE,
        args: [seedTask(taskId, { assignee: 'bob@example.com' })],
      });
    const racing = new Proxy(h.client.workflow, {
      get(target, prop, receiver) {
        if (prop !== 'getHandle') return Reflect.get(target, prop, receiver);
        return (...args: Parameters<Client['workflow']['getHandle']>) => {
          const handle = target.getHandle(...args) as WorkflowHandle;
          return new Proxy(handle, {
            get(t, p, r) {
              if (p !== 'describe') return Reflect.get(t, p, r);
              return async () => {
                const description = await t.describe();
                await startNextRun();
                return description;
              };
            },
          });
        };
      },
    });
    const client = new Proxy(h.client, { get: (t, p, r) => (p === 'workflow' ? racing : Reflect.get(t, p, r)) });
    const app = createApp({ config: h.config, client, redis: h.redis, logger: pino({ level: 'silent' }) });

    try {
      const res = await Promise.race([
        app.request(`/workflows/${workflowId}`),
        sleep(5_000).then(() => Promise.reject(new Error('GET /workflows/{workflow_id} gave no answer within 5 s'))),
      ]);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        workflow_id: workflowId,
        status: 'COMPLETED',
        output: { status: 'completed', message: 'Task assigned to alice@example.com with deadline reminder' },
      });
    } finally {
      webhook.delayMs = 0;
    }
  });
});
