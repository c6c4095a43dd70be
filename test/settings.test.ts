/**
 * Activity timeouts follow the settings of what the activities wait on: a webhook that takes 11 s is fine
 * with NOTIFY_TIMEOUT_MS=15000 (a fixed 10 s start-to-close used to cut it), and the model call gets
 * LLM_TIMEOUT_MS plus the grace period.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVITY_TIMEOUT_GRACE_MS } from '../workflows/shared/activity-timeouts';
import { chatEntityWorkflowId } from '../workflows/shared/ids';
import type { TaskProcessingResult } from '../common/schemas';
import { Harness, seedTask, uniqueId } from './helpers/harness';
import { startModelServer, type ModelServer } from './helpers/model-server';
import { startWebhook, type TestWebhook } from './helpers/webhook';

/** The start-to-close timeout each scheduled activity of a run got, by activity type. */
async function scheduledTimeouts(run: WorkflowHandle): Promise<Record<string, number>> {
  const history = await run.fetchHistory();
  const timeouts: Record<string, number> = {};
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (!scheduled) continue;
    const { seconds, nanos } = scheduled.startToCloseTimeout!;
    timeouts[scheduled.activityType!.name!] = Number(seconds ?? 0) * 1000 + Math.round((nanos ?? 0) / 1e6);
  }
  return timeouts;
}

let webhook: TestWebhook;
let model: ModelServer;
let h: Harness;
beforeAll(async () => {
  webhook = await startWebhook({ delayMs: 11_000 });
  model = await startModelServer(() => ({ text: 'From the model' }));
  h = await Harness.start({
    env: { NOTIFY_WEBHOOK_URL: webhook.url, NOTIFY_TIMEOUT_MS: '15000', LLM_BASE_URL: model.url, LLM_MODEL: 'scripted', LLM_TIMEOUT_MS: '45000' },
  });
});
afterAll(async () => {
  await h?.close();
  webhook?.close();
  model?.close();
});

describe('activity timeouts from the settings', () => {
  it('lets a webhook take 11 s when NOTIFY_TIMEOUT_MS is 15 s: one attempt, completed', { timeout: 60_000 }, async () => {
    const taskId = uniqueId('slow-webhook');
    const run = await h.client.workflow.start('TaskProcessingWorkflow', {
      workflowId: `task-workflow-${taskId}`,
      taskQueue: h.config.TASK_QUEUE,
      args: [seedTask(taskId)],
    });
    expect(((await run.result()) as TaskProcessingResult).status).toBe('completed');
    expect(webhook.received).toBe(1);
    // The attempt runs in the notifications app (over Nexus), which takes the same setting.
    expect((await scheduledTimeouts(await h.notificationRun(run.workflowId))).notifyAssignee).toBe(15_000 + ACTIVITY_TIMEOUT_GRACE_MS);
  });

  it('gives the model call LLM_TIMEOUT_MS and the grace period', async () => {
    const userId = uniqueId('user-timeouts');
    expect((await h.postJson(`/chat/${userId}`, { content: 'hello' })).body).toMatchObject({ content: 'From the model' });
    expect((await scheduledTimeouts(h.client.workflow.getHandle(chatEntityWorkflowId(userId)))).callModel).toBe(45_000 + ACTIVITY_TIMEOUT_GRACE_MS);
  });
});
