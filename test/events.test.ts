/**
 * Events on Redis Streams: CloudEvents for both topics, at-least-once delivery through consumer groups,
 * nothing lost while Redis is down, and a dead consumer's events redelivered.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS, type CloudEvent } from '../workflows/shared/cloudevents';
import { streamKey } from '../events/streams';
import { EventSubscriber } from '../events/subscriber';
import { unassignTaskUpdate, updateStatusUpdate } from '../entities/task/messages';
import { entity } from './helpers/entity';
import type { HistoryEvent } from './helpers/history';
import { Harness, eventually, seedTask, uniqueId } from './helpers/harness';
import { withPrivateRedis } from './helpers/private-redis';
import { streamEvents, taskEventsOf } from './helpers/streams';

describe('events published by the entities', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start({ subscriber: true });
  });
  afterAll(() => h?.close());

  it('publishes conversation.updated for every message as a CloudEvent, and the API consumes it', async () => {
    const user = uniqueId('user-alice');
    await h.postJson(`/chat/${user}`, { content: 'What tasks do I have?' });
    await h.postJson(`/chat/${user}`, { content: 'thanks' });
    const events = await eventually(
      () => streamEvents(h.redis, h.config.REDIS_KEY_PREFIX, TOPICS.conversations),
      (e) => e.filter((x) => (x.data as { user_id: string }).user_id === user).length === 2,
    );
    const mine = events.filter((x) => (x.data as { user_id: string }).user_id === user);
    expect(mine[0]).toMatchObject({
      specversion: '1.0',
      type: 'conversation.updated',
      topic: 'conversation-events',
      source: `/task-agent/chat-entity-${user}`,
      datacontenttype: 'application/json',
      data: {
        user_id: user,
        user_message: { role: 'user', content: 'What tasks do I have?' },
        assistant_message: { role: 'assistant', content: 'I can help with tasks. You have 1 messages in our conversation.' },
      },
    });
    expect(new Set(mine.map((e) => e.id)).size).toBe(2);

    const stats = await eventually(
      () => h.getJson('/events/stats'),
      (r) => (r.body.topics as Record<string, { acknowledged: number }>)['conversation-events']!.acknowledged >= 2,
    );
    expect(stats.body.subscriber).toBe('running');
  });

  it('publishes task.created, assigned, unassigned, overdue, updated and completed', async () => {
    const ok = uniqueId('task-events');
    await h.postJson('/tasks/process', seedTask(ok, { deadline_seconds: 1 }));
    const typesOf = async (taskId: string) =>
      (await streamEvents(h.redis, h.config.REDIS_KEY_PREFIX, TOPICS.tasks))
        .filter((e) => (e.data as { task_id: string }).task_id === taskId)
        .map((e) => e.type);
    expect(await eventually(() => typesOf(ok), (t) => t.length >= 3)).toEqual(['task.created', 'task.assigned', 'task.overdue']);
    await entity(h, ok).executeUpdate(updateStatusUpdate, { args: [{ status: 'completed' }] });
    expect(await eventually(() => typesOf(ok), (t) => t.length >= 4)).toEqual(['task.created', 'task.assigned', 'task.overdue', 'task.completed']);

    // A change none of the seed's types names is task.updated, so a follower of the task sees it too.
    const moved = uniqueId('task-events');
    await h.postJson('/tasks/process', seedTask(moved));
    await eventually(() => typesOf(moved), (t) => t.length >= 2);
    await entity(h, moved).executeUpdate(updateStatusUpdate, { args: [{ status: 'in_progress' }] });
    const last = await eventually(
      async () => (await streamEvents(h.redis, h.config.REDIS_KEY_PREFIX, TOPICS.tasks)).filter((e) => (e.data as { task_id: string }).task_id === moved),
      (events) => events.length >= 3,
    );
    expect(last.at(-1)).toMatchObject({ type: 'task.updated', data: { previous_status: 'assigned', task: { status: 'in_progress' } } });

    // The saga's compensation shows up as task.unassigned.
    const undone = uniqueId('task-events');
    await h.postJson('/tasks/process', seedTask(undone));
    await eventually(() => typesOf(undone), (t) => t.length >= 2);
    await entity(h, undone).executeUpdate(unassignTaskUpdate);
    expect(await eventually(() => typesOf(undone), (t) => t.length >= 3)).toEqual(['task.created', 'task.assigned', 'task.unassigned']);
  });
});

/** How a stretch of an entity's history published: local activities run (and how they failed), activities scheduled. */
function publishing(events: HistoryEvent[]) {
  const markers = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
  return {
    localActivities: markers.length,
    localFailures: markers.flatMap((e) => e.markerRecordedEventAttributes?.failure?.cause?.applicationFailureInfo?.type ?? e.markerRecordedEventAttributes?.failure?.applicationFailureInfo?.type ?? []),
    activities: events.filter((e) => e.activityTaskScheduledEventAttributes).length,
  };
}

/** What the entity's history shows after its deadline timer fired. */
async function afterDeadline(h: Harness, taskId: string) {
  const events = (await entity(h, taskId).fetchHistory()).events ?? [];
  const fired = events.findIndex((e) => e.timerFiredEventAttributes);
  return { fired: fired !== -1, ...publishing(events.slice(fired)) };
}

/** What the entity's whole history shows (its task only created, or handed over). */
async function sinceCreated(h: Harness, taskId: string) {
  return publishing((await entity(h, taskId).fetchHistory()).events ?? []);
}

describe('task.created', () => {
  const ctx = withPrivateRedis();
  const eventsOf = (taskId: string) => taskEventsOf(ctx.h.redis, ctx.h.config.REDIS_KEY_PREFIX, taskId).catch(() => [] as CloudEvent[]);
  const typesOf = async (taskId: string) => (await eventsOf(taskId)).map((e) => e.type);

  it('is published within the workflow task that started the entity, for POST /tasks and a hand-over alike, describing the task as recorded', async () => {
    const created = await ctx.h.postJson('/tasks', { title: 'Created at once', description: 'Its event goes with its creation' });
    expect(created.status).toBe(201);
    const taskId = created.body.task_id as string;
    const [event] = await eventually(() => eventsOf(taskId), (e) => e.length === 1);
    // The change is timed at the run's start, the same in every attempt of that workflow task: the event is the task.
    expect(event).toMatchObject({ type: 'task.created', data: { task: created.body } });
    expect(await eventually(() => sinceCreated(ctx.h, taskId), (a) => a.localActivities > 0)).toEqual({ localActivities: 1, localFailures: [], activities: 0 });

    const handedOver = uniqueId('created-at-once');
    await ctx.h.postJson('/tasks/process', seedTask(handedOver));
    expect(await eventually(() => typesOf(handedOver), (t) => t.length >= 2)).toEqual(['task.created', 'task.assigned']);
    expect(await eventually(() => sinceCreated(ctx.h, handedOver), (a) => a.localActivities > 0)).toEqual({ localActivities: 1, localFailures: [], activities: 0 });
  });

  it('gives way to the retrying activity at once while Redis is not connected, and is published once it is back', { timeout: 90_000 }, async () => {
    await ctx.redisServer.stop();
    await eventually(async () => ctx.h.redis.status, (status) => status !== 'ready');
    const created = await ctx.h.postJson('/tasks', { title: 'Created during an outage', description: 'Its event waits for Redis' });
    expect(created.status).toBe(201);
    const taskId = created.body.task_id as string;
    // The attempt at once did not wait for a reconnection: it failed as not connected, not by its timeout.
    expect(await eventually(() => sinceCreated(ctx.h, taskId), (a) => a.activities > 0, { timeoutMs: 20_000 })).toEqual({
      localActivities: 1,
      localFailures: ['RedisNotConnected'],
      activities: 1,
    });
    await ctx.redisServer.resume();
    expect(await eventually(() => typesOf(taskId), (t) => t.length >= 1, { timeoutMs: 60_000, intervalMs: 500 })).toEqual(['task.created']);
  });
});

describe('task.overdue', () => {
  const ctx = withPrivateRedis();
  const overdueEvents = async (taskId: string) =>
    (await taskEventsOf(ctx.h.redis, ctx.h.config.REDIS_KEY_PREFIX, taskId).catch(() => [] as CloudEvent[])).filter((e) => e.type === 'task.overdue');

  it('is published within the workflow task that marked the task overdue: a local activity, no task through the server', async () => {
    const taskId = uniqueId('overdue-at-once');
    await ctx.h.postJson('/tasks/process', seedTask(taskId, { deadline_seconds: 1 }));
    expect(await eventually(() => overdueEvents(taskId), (e) => e.length === 1)).toHaveLength(1);
    // The local activity's marker is recorded when its workflow task completes, which may come a moment after
    // the event it published reached Redis (a full suite on two cores showed it): wait for that task.
    const after = await eventually(() => afterDeadline(ctx.h, taskId), (a) => a.localActivities + a.activities > 0);
    expect(after).toEqual({ fired: true, localActivities: 1, localFailures: [], activities: 0 });
  });

  it('falls back to the retrying activity while Redis is away, and is published once it is back', { timeout: 90_000 }, async () => {
    const taskId = uniqueId('overdue-outage');
    await ctx.h.postJson('/tasks/process', seedTask(taskId, { deadline_seconds: 2 }));
    await eventually(() => ctx.h.getJson(`/tasks/${taskId}`), (r) => r.body.status === 'assigned');
    await ctx.redisServer.stop();
    // The worker's connection (the harness's) has seen Redis go.
    await eventually(async () => ctx.h.redis.status, (status) => status !== 'ready');
    await eventually(() => ctx.h.getJson(`/tasks/${taskId}`), (r) => r.body.status === 'overdue', { timeoutMs: 20_000 });
    // The attempt at once did not wait for a reconnection: it failed as not connected, not by its timeout.
    expect(await eventually(() => afterDeadline(ctx.h, taskId), (a) => a.localActivities === 1 && a.activities === 1, { timeoutMs: 20_000 })).toMatchObject({
      localFailures: ['RedisNotConnected'],
    });
    await ctx.redisServer.resume();
    const events = await eventually(() => overdueEvents(taskId), (e) => e.length >= 1, { timeoutMs: 60_000, intervalMs: 500 });
    expect(events).toHaveLength(1);
  });
});

describe('a Redis outage', () => {
  const ctx = withPrivateRedis();

  it('reports not ready, keeps replying, and delivers every event once Redis is back', { timeout: 90_000 }, async () => {
    const user = uniqueId('user-outage');
    await ctx.h.postJson(`/chat/${user}`, { content: 'before' });
    await ctx.redisServer.stop();

    const ready = await ctx.h.getJson('/readyz');
    expect(ready.status).toBe(503);
    expect((ready.body.checks as { redis: string }).redis).not.toBe('ok');
    for (let i = 1; i <= 5; i++) {
      const reply = await ctx.h.postJson(`/chat/${user}`, { content: `during ${i}` });
      expect(reply.status).toBe(200);
      expect(reply.body.content).toBe(`Understood. I'm tracking our conversation (message #${i + 1}).`);
    }

    await new Promise((r) => setTimeout(r, 3_000));
    await ctx.redisServer.resume();
    const events = await eventually(
      () => streamEvents(ctx.h.redis, ctx.h.config.REDIS_KEY_PREFIX, TOPICS.conversations).catch(() => []),
      (e) => e.length >= 6,
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const contents = events.map((e) => (e.data as { user_message: { content: string } }).user_message.content);
    expect(contents).toEqual(['before', 'during 1', 'during 2', 'during 3', 'during 4', 'during 5']);
    expect(new Set(events.map((e) => e.id)).size).toBe(6);
    expect((await ctx.h.getJson('/readyz')).status).toBe(200);
  });
});

describe('the subscriber', () => {
  let redis: Redis;
  const prefix = `${uniqueId('subscriber')}:`;
  beforeAll(() => {
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const event = (n: number): CloudEvent => ({
    specversion: '1.0',
    id: `evt-${n}`,
    source: '/test',
    type: 'conversation.updated',
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    topic: TOPICS.conversations,
    data: { n },
  });

  it("redelivers events a consumer took but never acknowledged (it died) to another consumer", async () => {
    const key = streamKey(prefix, TOPICS.conversations);
    await redis.xgroup('CREATE', key, 'g', '0', 'MKSTREAM');
    for (let n = 1; n <= 5; n++) await redis.xadd(key, '*', 'id', `evt-${n}`, 'event', JSON.stringify(event(n)));
    // The dead consumer read all five and stopped before XACK.
    await redis.xreadgroup('GROUP', 'g', 'dead-consumer', 'COUNT', 10, 'STREAMS', key, '>');
    expect(((await redis.xpending(key, 'g')) as [number])[0]).toBe(5);

    const seen: string[] = [];
    const survivor = new EventSubscriber({
      redis: redis.duplicate(),
      prefix,
      topics: [TOPICS.conversations],
      group: 'g',
      consumer: 'survivor',
      handler: (e) => void seen.push(e.id),
      logger: pino({ level: 'silent' }),
      claimIdleMs: 300,
      blockMs: 200,
    });
    await new Promise((r) => setTimeout(r, 400)); // the entries have been idle longer than claimIdleMs
    survivor.start();
    try {
      await eventually(async () => seen.length, (n) => n >= 5, { timeoutMs: 10_000 });
      expect(seen).toEqual(['evt-1', 'evt-2', 'evt-3', 'evt-4', 'evt-5']);
      expect(survivor.counters[TOPICS.conversations]).toMatchObject({ received: 5, acknowledged: 5, reclaimed: 5 });
      expect(((await redis.xpending(key, 'g')) as [number])[0]).toBe(0);
    } finally {
      await survivor.stop();
    }
  });

  it('re-reads, at start, what this same consumer took and never acknowledged, without waiting to reclaim it', async () => {
    const key = streamKey(prefix, 'restart-topic' as typeof TOPICS.tasks);
    await redis.xgroup('CREATE', key, 'g3', '0', 'MKSTREAM');
    for (let n = 1; n <= 3; n++) await redis.xadd(key, '*', 'id', `evt-r${n}`, 'event', JSON.stringify({ ...event(n), id: `evt-r${n}` }));
    // An earlier life of consumer 'c' read them; Redis (or the process) went away before XACK.
    await redis.xreadgroup('GROUP', 'g3', 'c', 'COUNT', 10, 'STREAMS', key, '>');
    const seen: string[] = [];
    const again = new EventSubscriber({
      redis: redis.duplicate(),
      prefix,
      topics: ['restart-topic' as typeof TOPICS.tasks],
      group: 'g3',
      consumer: 'c',
      handler: (e) => void seen.push(e.id),
      logger: pino({ level: 'silent' }),
      claimIdleMs: 3_600_000, // reclaiming would take an hour: the re-read must be what delivers them
      blockMs: 100,
    });
    again.start();
    try {
      await eventually(async () => seen.length, (n) => n >= 3, { timeoutMs: 5_000 });
      expect(seen).toEqual(['evt-r1', 'evt-r2', 'evt-r3']);
      expect(again.counters['restart-topic']).toMatchObject({ received: 3, acknowledged: 3, reclaimed: 0 });
      expect(((await redis.xpending(key, 'g3')) as [number])[0]).toBe(0);
    } finally {
      await again.stop();
    }
  });

  it('does not acknowledge an event whose handler failed, and delivers it again', async () => {
    const key = streamKey(prefix, TOPICS.tasks);
    await redis.xadd(key, '*', 'id', 'evt-x', 'event', JSON.stringify({ ...event(9), id: 'evt-x', topic: TOPICS.tasks }));
    let attempts = 0;
    const subscriber = new EventSubscriber({
      redis: redis.duplicate(),
      prefix,
      topics: [TOPICS.tasks],
      group: 'g2',
      consumer: 'c',
      handler: () => {
        attempts++;
        if (attempts === 1) throw new Error('downstream unavailable');
      },
      logger: pino({ level: 'silent' }),
      claimIdleMs: 200,
      blockMs: 100,
    });
    subscriber.start();
    try {
      await eventually(async () => subscriber.counters[TOPICS.tasks]!.acknowledged, (n) => n === 1, { timeoutMs: 15_000 });
      expect(attempts).toBe(2);
      expect(subscriber.counters[TOPICS.tasks]).toMatchObject({ failed: 1, acknowledged: 1 });
    } finally {
      await subscriber.stop();
    }
  });
});
