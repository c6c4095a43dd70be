/**
 * Continue-as-new under pressure: entities must start a fresh run within a bounded history while messages
 * keep arriving and while Redis is away, and lose no message, mutation or pending event doing so.
 */
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatEntityWorkflowId } from '../workflows/shared/ids';
import type { ChatEntry } from '../common/schemas';
import { TOPICS } from '../workflows/shared/cloudevents';
import { createEntity, entity, readTask, taskClient } from './helpers/entity';
import { Harness, eventually, uniqueId } from './helpers/harness';
import { lastUserMessage, startModelServer, type ModelServer } from './helpers/model-server';
import { PrivateRedis } from './helpers/private-redis';
import { streamEvents } from './helpers/streams';

/**
 * Every run of a workflow id, oldest first, with its history length. Walks the continue-as-new chain
 * through the histories themselves: visibility (`workflow.list`) lags behind under load.
 */
async function runsOf(h: Harness, workflowId: string, firstRunId: string): Promise<{ runId: string; events: number }[]> {
  const runs: { runId: string; events: number }[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: temporal.api.history.v1.IHistory = await h.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    runs.push({ runId, events: events.length });
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

describe('chat entity under a steady stream of messages', () => {
  // With a model, every turn waits on an activity, so turns queue up behind each other in the entity.
  let model: ModelServer;
  let h: Harness;
  beforeAll(async () => {
    model = await startModelServer((request) => ({ text: `Reply to ${lastUserMessage(request)}` }));
    h = await Harness.start({ env: { LLM_BASE_URL: model.url, LLM_MODEL: 'scripted' } });
  });
  afterAll(async () => {
    await h?.close();
    model?.close();
  });

  it('continues as new within a bounded history, every message answered once and in order', { timeout: 480_000 }, async () => {
    const userId = uniqueId('user-stream');
    const historyLimit = 200;
    const started = await h.client.workflow.start('ChatEntityWorkflow', {
      workflowId: chatEntityWorkflowId(userId),
      taskQueue: h.config.TASK_QUEUE,
      args: [{ user_id: userId, history_limit: historyLimit }],
    });
    // About 8 history events per message against a limit of 200: some 40 runs, where 5 would prove it.
    // (2,000 took 2 minutes on the dev server and more than 4 on Temporal's server on PostgreSQL.)
    const total = 1_000;
    const senders = 12; // more than the API keeps in flight per entity, so the entity is never idle
    let next = 1;
    const answers: string[] = [];
    await Promise.all(
      Array.from({ length: senders }, async () => {
        while (next <= total) {
          const n = next++;
          const res = await h.postJson(`/chat/${userId}`, { content: `message ${n}` });
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          answers.push(res.body.content as string);
        }
      }),
    );
    // Each message got its own reply: none lost, none doubled.
    const numbers = answers.map((a) => Number(/^Reply to message (\d+)$/.exec(a)?.[1])).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: total }, (_, i) => i + 1));

    const runs = await eventually(() => runsOf(h, chatEntityWorkflowId(userId), started.firstExecutionRunId), (r) => r.length > 1, { timeoutMs: 10_000 });
    const longest = Math.max(...runs.slice(0, -1).map((r) => r.events));
    console.log(`chat under pressure: ${total} messages, ${runs.length} runs, longest closed run ${longest} events (limit ${historyLimit})`);
    expect(runs.length).toBeGreaterThanOrEqual(5);
    // The limit, plus what the messages already accepted when it was reached add before the run ends.
    expect(longest).toBeLessThan(historyLimit + 150);

    const events = await eventually(
      () => streamEvents<{ user_message: ChatEntry }>(h.redis, h.config.REDIS_KEY_PREFIX, TOPICS.conversations),
      (e) => e.length >= total,
      { timeoutMs: 30_000 },
    );
    expect(new Set(events.map((e) => e.id)).size).toBe(total);
  });
});

describe('task entity while Redis is away', () => {
  let redisServer: PrivateRedis;
  let h: Harness;
  beforeAll(async () => {
    redisServer = await PrivateRedis.start();
    h = await Harness.start({ env: { REDIS_URL: redisServer.url }, api: false });
    h.redis.on('error', () => undefined);
  });
  afterAll(async () => {
    await h?.close().catch(() => undefined);
    await redisServer?.close();
  });

  it('continues as new during the outage, carrying every unpublished event', { timeout: 120_000 }, async () => {
    const taskId = uniqueId('outage-can');
    await createEntity(h, taskId, { history_limit: 40 });
    const firstRun = (await entity(h, taskId).describe()).runId;
    await eventually(() => streamEvents(h.redis, h.config.REDIS_KEY_PREFIX, TOPICS.tasks), (e) => e.length === 1);

    await redisServer.stop();
    const mutations = 30;
    for (let i = 0; i < mutations; i++) await taskClient(h).assign(taskId, `user-${i}@example.com`);
    // It moved on to new runs while the publish was still being retried.
    const runs = await eventually(() => runsOf(h, `task-entity-${taskId}`, firstRun), (r) => r.length > 1, { timeoutMs: 10_000 });
    expect(runs[0]!.runId).toBe(firstRun);
    expect(runs.length).toBeGreaterThan(1);
    expect(Math.max(...runs.slice(0, -1).map((r) => r.events))).toBeLessThan(80);
    expect(await readTask(h, taskId)).toMatchObject({ assignee: 'user-29@example.com', version: 1 + mutations });

    await redisServer.resume();
    const events = await eventually(
      () => streamEvents<{ task: { version: number } }>(h.redis, h.config.REDIS_KEY_PREFIX, TOPICS.tasks),
      (e) => e.length >= 1 + mutations,
      { timeoutMs: 60_000 },
    );
    // task.created, then one task.assigned per mutation, in order, once each.
    expect(events.map((e) => e.data.task.version)).toEqual(Array.from({ length: 1 + mutations }, (_, i) => i + 1));
    expect(new Set(events.map((e) => e.id)).size).toBe(1 + mutations);
  });
});
