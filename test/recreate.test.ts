/**
 * Delete, then process again: a deleted entity must never take in a new task that its run then takes
 * away. Redis is stopped between the delete and the new run (so the deleted run cannot publish its last
 * event) and started again after; the task processed anew must exist, and keep existing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../workflows/shared/cloudevents';
import { createEntity } from './helpers/entity';
import { Harness, eventually, seedTask, uniqueId } from './helpers/harness';
import { PrivateRedis } from './helpers/private-redis';
import { streamEvents } from './helpers/streams';
import { startWebhook, type TestWebhook } from './helpers/webhook';

let redisServer: PrivateRedis;
let webhook: TestWebhook;
let h: Harness;
beforeAll(async () => {
  redisServer = await PrivateRedis.start();
  // Notifications by webhook: the runs must not need Redis.
  webhook = await startWebhook();
  h = await Harness.start({ env: { REDIS_URL: redisServer.url, NOTIFY_WEBHOOK_URL: webhook.url } });
  h.redis.on('error', () => undefined);
});
afterAll(async () => {
  await h?.close().catch(() => undefined);
  await redisServer?.close();
  webhook?.close();
});

const runDone = (taskId: string) =>
  eventually(
    () => h.getJson(`/workflows/task-workflow-${taskId}`),
    (r) => r.body.status !== 'RUNNING',
    { timeoutMs: 30_000 },
  );

describe('delete, then process again', () => {
  it('leaves the task existing when Redis is away between the delete and the new run', { timeout: 90_000 }, async () => {
    const taskId = uniqueId('recreate');
    expect((await h.postJson('/tasks/process', seedTask(taskId))).status).toBe(200);
    expect((await runDone(taskId)).body.output).toMatchObject({ status: 'completed' });

    await redisServer.stop();
    expect((await h.fetch(`/tasks/${taskId}`, { method: 'DELETE' })).status).toBe(204);
    expect((await h.getJson(`/tasks/${taskId}`)).status).toBe(404);

    expect((await h.postJson('/tasks/process', seedTask(taskId, { assignee: 'bob@example.com' }))).status).toBe(200);
    expect((await runDone(taskId)).body.output).toEqual({
      task_id: taskId,
      status: 'completed',
      message: 'Task assigned to bob@example.com with deadline reminder',
    });
    expect((await h.getJson(`/tasks/${taskId}`)).body).toMatchObject({ status: 'assigned', assignee: 'bob@example.com', version: 3 });

    await redisServer.resume();
    // Every event arrives, the deletion before the new task's creation...
    const types = await eventually(
      async () => (await streamEvents(h.redis, h.config.REDIS_KEY_PREFIX, TOPICS.tasks)).filter((e) => e.source.endsWith(taskId)).map((e) => e.type),
      (t) => t.length >= 5,
      { timeoutMs: 30_000 },
    );
    expect(types).toEqual(['task.created', 'task.assigned', 'task.deleted', 'task.created', 'task.assigned']);
    // ...and once nothing is left to publish, the task is still there.
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await h.getJson(`/tasks/${taskId}`)).body).toMatchObject({ status: 'assigned', assignee: 'bob@example.com' });
    expect((await h.client.workflow.getHandle(`task-entity-${taskId}`).describe()).status.name).toBe('RUNNING');
  });

  it('refuses every update on a deleted entity: the task is gone, and creating it again lands in a fresh entity', async () => {
    const taskId = uniqueId('refuse');
    await createEntity(h, taskId);
    const del = await h.fetch(`/tasks/${taskId}`, { method: 'DELETE' });
    if (del.status !== 204) {
      const hist = await h.client.workflow.getHandle(`task-entity-${taskId}`).fetchHistory();
      console.log(JSON.stringify(hist.events!.filter((e) => e.workflowTaskFailedEventAttributes).map((e) => e.workflowTaskFailedEventAttributes!.failure), null, 1).slice(0, 3000));
    }
    expect(del.status).toBe(204);
    const put = await h.fetch(`/tasks/${taskId}/status?status=completed`, { method: 'PUT' });
    expect(put.status).toBe(404);
    expect((await h.fetch(`/tasks/${taskId}`, { method: 'DELETE' })).status).toBe(404);
    const again = await createEntity(h, taskId);
    expect(again).toMatchObject({ task_id: taskId, status: 'pending', version: 1 });
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await h.getJson(`/tasks/${taskId}`)).body).toMatchObject({ status: 'pending', version: 1 });
  });
});
