/**
 * Outages of what the service depends on, under traffic: Redis gone for 30 s while tasks are processed
 * and users chat, and the notification webhook down for longer than the retry policy across many tasks.
 * Each case prints what it tried and what it found.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskProcessingResult } from '../../common/schemas';
import { TOPICS, type Topic } from '../../workflows/shared/cloudevents';
import { Harness, eventually, seedTask, uniqueId } from '../helpers/harness';
import { PrivateRedis } from '../helpers/private-redis';
import { streamEvents } from '../helpers/streams';
import { startWebhook, type TestWebhook } from '../helpers/webhook';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let redisServer: PrivateRedis;
let webhook: TestWebhook;
let h: Harness;
beforeAll(async () => {
  redisServer = await PrivateRedis.start();
  webhook = await startWebhook();
  h = await Harness.start({ env: { REDIS_URL: redisServer.url, NOTIFY_WEBHOOK_URL: webhook.url }, subscriber: true });
  h.redis.on('error', () => undefined);
});
afterAll(async () => {
  await h?.close().catch(() => undefined);
  await redisServer?.close();
  webhook?.close();
});

const published = <T>(topic: Topic) => streamEvents<T>(h.redis, h.config.REDIS_KEY_PREFIX, topic);

const result = (taskId: string) => h.client.workflow.getHandle<() => Promise<TaskProcessingResult>>(`task-workflow-${taskId}`).result();

describe('outages', () => {
  it('Redis down for 30 s under task and chat traffic: /readyz says so, replies and runs go on, every event arrives after', { timeout: 180_000 }, async () => {
    webhook.status = 200;
    const user = uniqueId('user-redis-outage');
    expect((await h.postJson(`/chat/${user}`, { content: 'before' })).status).toBe(200);
    await redisServer.stop();
    const down = Date.now();

    const ready = await h.getJson('/readyz');
    expect(ready.status).toBe(503);
    expect((ready.body.checks as { redis: string }).redis).not.toBe('ok');

    // One processing request and one chat message a second, for 30 s.
    const taskIds: string[] = [];
    let message = 1;
    while (Date.now() - down < 30_000) {
      const taskId = uniqueId('redis-outage');
      taskIds.push(taskId);
      expect((await h.postJson('/tasks/process', seedTask(taskId))).status).toBe(200);
      const reply = await h.postJson(`/chat/${user}`, { content: `during ${message}` });
      expect(reply.status).toBe(200);
      expect(reply.body.content).toBe(`Understood. I'm tracking our conversation (message #${message + 1}).`);
      message++;
      await sleep(1_000);
    }
    // Runs do not need Redis: they finish while it is still away.
    const results = await Promise.all(taskIds.map(result));
    const completedWhileDown = results.filter((r) => r.status === 'completed').length;
    expect(completedWhileDown).toBe(taskIds.length);
    expect((await h.getJson('/readyz')).status).toBe(503);

    await redisServer.resume();
    const back = Date.now();
    const chats = message; // 'before' and every 'during'
    const conversation = await eventually(
      () => published<{ user_id: string; user_message: { content: string } }>(TOPICS.conversations).catch(() => []),
      (e) => new Set(e.map((x) => x.id)).size >= chats,
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    const tasks = await eventually(
      () => published<{ task_id: string }>(TOPICS.tasks).catch(() => []),
      (e) => new Set(e.map((x) => x.id)).size >= taskIds.length * 2,
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    const deliveredAfterMs = Date.now() - back;
    expect(conversation.map((e) => e.data.user_message.content)).toEqual(['before', ...Array.from({ length: chats - 1 }, (_, i) => `during ${i + 1}`)]);
    expect(new Set(conversation.map((e) => e.id)).size).toBe(chats);
    for (const taskId of taskIds) {
      expect(tasks.filter((e) => e.data.task_id === taskId).map((e) => e.type)).toEqual(['task.created', 'task.assigned']);
    }
    expect(new Set(tasks.map((e) => e.id)).size).toBe(taskIds.length * 2);

    // The API's subscriber consumed them too, and the API is ready again.
    const stats = await eventually(
      () => h.getJson('/events/stats'),
      (s) => {
        const topics = s.body.topics as Record<string, { acknowledged: number }>;
        return (topics[TOPICS.conversations]?.acknowledged ?? 0) >= chats && (topics[TOPICS.tasks]?.acknowledged ?? 0) >= taskIds.length * 2;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect((await h.getJson('/readyz')).status).toBe(200);
    console.log(
      `Redis outage ${Math.round((back - down) / 1000)} s: ${chats - 1} chat replies and ${taskIds.length} runs answered during it, ` +
        `${completedWhileDown}/${taskIds.length} runs completed before Redis returned; ${chats} conversation and ${taskIds.length * 2} task events ` +
        `(distinct ids) in the streams ${deliveredAfterMs} ms after it returned; subscriber acknowledged ${JSON.stringify(stats.body.topics)}`,
    );
  });

  it('notification webhook down past the retry policy for 20 tasks: all back as created; a refused compensation does not stop the others', { timeout: 120_000 }, async () => {
    webhook.status = 503;
    const receivedBefore = webhook.received;
    const taskIds = Array.from({ length: 20 }, () => uniqueId('notify-outage'));
    for (const answer of await Promise.all(taskIds.map((id) => h.postJson('/tasks/process', seedTask(id))))) expect(answer.status).toBe(200);

    // One task is completed by its assignee while its notification is being retried: its compensation
    // (revert) is then refused, since it would undo that, and must not keep the others from being compensated.
    const stuck = taskIds[0]!;
    await eventually(() => h.getJson(`/tasks/${stuck}`), (r) => r.body.status === 'assigned' && r.body.deadline !== null, { timeoutMs: 10_000, intervalMs: 50 });
    expect((await h.fetch(`/tasks/${stuck}/status?status=completed`, { method: 'PUT' })).status).toBe(200);

    const results = await Promise.all(taskIds.map(result));
    const reason = 'Notification service unavailable for alice@example.com: webhook answered 503';
    expect(results[0]).toEqual({
      task_id: stuck,
      status: 'failed',
      message: `Processing failed; compensation refused (Task ${stuck} changed after the changes to revert (now version 4); nothing reverted): ${reason}`,
    });
    for (const [i, r] of results.entries()) {
      if (i > 0) expect(r).toEqual({ task_id: taskIds[i], status: 'failed', message: `Processing failed, compensation applied: ${reason}` });
    }
    const tasks = await Promise.all(taskIds.map(async (id) => (await h.getJson(`/tasks/${id}`)).body));
    expect(tasks[0]).toMatchObject({ status: 'completed', assignee: 'alice@example.com' });
    for (const task of tasks.slice(1)) expect(task).toMatchObject({ status: 'pending', assignee: null, deadline: null });
    const attempts = webhook.received - receivedBefore;
    expect(attempts).toBe(60); // 3 attempts each, no more
    console.log(
      `notification outage: 20 runs, ${attempts} webhook attempts (3 each), 20 failed; 19 compensated to pending/unassigned/no deadline, ` +
        `1 compensation refused (task completed meanwhile) and reported as such; the others unaffected`,
    );
  });
});
