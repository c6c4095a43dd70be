/**
 * Events on a Redis Cluster (REDIS_CLUSTER_NODES): a local cluster of three primaries with a replica each,
 * the real worker and API on it. Both streams and the publish markers share one slot; the whole cluster down
 * under traffic loses nothing; the primary of the event slot SIGKILLed under traffic is replaced by its
 * replica and no event is lost or doubled; and an event counts as published only once a replica has it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventKeyPrefix } from '../common/redis';
import { TOPICS, type CloudEvent, type Topic } from '../workflows/shared/cloudevents';
import { EventNotReplicated, publishEvent, streamKey } from '../events/streams';
import { Harness, eventually, seedTask, uniqueId } from './helpers/harness';
import { LocalRedisCluster } from './helpers/redis-cluster';
import { streamEvents } from './helpers/streams';
import { startWebhook, type TestWebhook } from './helpers/webhook';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cluster: LocalRedisCluster;
let webhook: TestWebhook;
let h: Harness;
let prefix: string;
beforeAll(async () => {
  cluster = await LocalRedisCluster.start();
  // Notifications to a webhook, as in the single-Redis outage test: recorded in Redis they would fail with it,
  // and runs would (rightly) compensate; here the runs go on and only the events wait for Redis.
  webhook = await startWebhook();
  h = await Harness.start({ env: { REDIS_CLUSTER_NODES: cluster.nodesSetting, NOTIFY_WEBHOOK_URL: webhook.url }, subscriber: true });
  h.redis.on('error', () => undefined);
  prefix = eventKeyPrefix(h.config);
}, 120_000);
afterAll(async () => {
  await h?.close().catch(() => undefined);
  await cluster?.close();
  webhook?.close();
});

const published = <T>(topic: Topic) => streamEvents<T>(h.redis, prefix, topic).catch(() => [] as CloudEvent<T>[]);
const acknowledged = async () => (await h.getJson('/events/stats')).body.topics as Record<string, { acknowledged: number }>;

/** Chat messages and processing requests, one of each every `everyMs`, until `stop()`; what was sent. */
function traffic(user: string, everyMs: number) {
  const sent = { messages: [] as string[], tasks: [] as string[] };
  let running = true;
  const loop = (async () => {
    for (let i = 1; running; i++) {
      const taskId = uniqueId('cluster-run');
      // A deadline far away: no task.overdue while the test runs.
      expect((await h.postJson('/tasks/process', seedTask(taskId, { deadline_seconds: 3_600 }))).status).toBe(200);
      sent.tasks.push(taskId);
      expect((await h.postJson(`/chat/${user}`, { content: `message ${i}` })).status).toBe(200);
      sent.messages.push(`message ${i}`);
      await sleep(everyMs);
    }
  })();
  return {
    sent,
    stop: async () => {
      running = false;
      await loop;
      return sent;
    },
  };
}

/** Every message and both events of every run are in the streams once (by id), in order, and the API consumed them. */
async function expectAllDelivered(user: string, sent: { messages: string[]; tasks: string[] }) {
  const taskSet = new Set(sent.tasks);
  const read = async () => {
    const conversation = (await published<{ user_id: string; user_message: { content: string } }>(TOPICS.conversations)).filter((x) => x.data.user_id === user);
    const tasks = (await published<{ task_id: string }>(TOPICS.tasks)).filter((x) => taskSet.has(x.data.task_id));
    return { conversation, tasks };
  };
  // Counts only in the probe's failure message: the events themselves would fill the screen.
  await eventually(
    async () => {
      const { conversation, tasks } = await read();
      return { messages: conversation.length, of: sent.messages.length, taskEvents: tasks.length, ofTasks: sent.tasks.length * 2 };
    },
    (n) => n.messages >= n.of && n.taskEvents >= n.ofTasks,
    { timeoutMs: 90_000, intervalMs: 500 },
  );
  const { conversation, tasks } = await read();
  expect(conversation.map((e) => e.data.user_message.content)).toEqual(sent.messages);
  expect(new Set(conversation.map((e) => e.id)).size).toBe(conversation.length);
  const off = sent.tasks
    .map((taskId) => ({ taskId, events: tasks.filter((e) => e.data.task_id === taskId).map((e) => `${e.type} ${e.id}`) }))
    .filter((t) => t.events.length !== 2 || !t.events[0]!.startsWith('task.created') || !t.events[1]!.startsWith('task.assigned'));
  expect(off, 'tasks whose events are not task.created then task.assigned').toEqual([]);
  expect(new Set(tasks.map((e) => e.id)).size).toBe(tasks.length);

  // The API's subscriber, reading both streams with one XREADGROUP on the cluster, acknowledged every entry.
  const [conversationTotal, taskTotal] = [(await published(TOPICS.conversations)).length, (await published(TOPICS.tasks)).length];
  await eventually(
    acknowledged,
    (t) => (t[TOPICS.conversations]?.acknowledged ?? 0) >= conversationTotal && (t[TOPICS.tasks]?.acknowledged ?? 0) >= taskTotal,
    { timeoutMs: 60_000, intervalMs: 500 },
  );
}

describe('events on a Redis Cluster', () => {
  it('keeps both streams and the publish markers in one slot, and the API consumes from it', { timeout: 60_000 }, async () => {
    expect(prefix).toBe(`${h.config.REDIS_KEY_PREFIX}{events}:`);
    const slots = await Promise.all(
      [streamKey(prefix, TOPICS.conversations), streamKey(prefix, TOPICS.tasks), `${prefix}published:some-event`].map((key) =>
        h.redis.call('CLUSTER', 'KEYSLOT', key),
      ),
    );
    expect(new Set(slots).size).toBe(1);

    const user = uniqueId('cluster-user');
    const load = traffic(user, 100);
    await sleep(1_000);
    await expectAllDelivered(user, await load.stop());
  });

  it('the whole cluster down for 10 s under traffic: replies and runs go on, every event arrives once after', { timeout: 180_000 }, async () => {
    const user = uniqueId('cluster-outage');
    const load = traffic(user, 500);
    await sleep(1_000);
    await cluster.stop();
    expect((await h.getJson('/readyz')).status).toBe(503);
    await sleep(10_000);
    await cluster.resume();
    await sleep(1_000);
    const sent = await load.stop();
    expect(sent.messages.length).toBeGreaterThan(15);
    await expectAllDelivered(user, sent);
    await eventually(() => h.getJson('/readyz'), (r) => r.status === 200, { timeoutMs: 30_000 });
  });

  it('the primary of the event slot SIGKILLed under traffic: its replica takes over, no event lost or doubled', { timeout: 180_000 }, async () => {
    const user = uniqueId('cluster-failover');
    const load = traffic(user, 200);
    await sleep(2_000);
    const { killed, promoted } = await cluster.killPrimaryOf(streamKey(prefix, TOPICS.tasks));
    // The promoted replica has no replica of its own until the dead node comes back (a pod restart): until
    // then events wait in the entities' outboxes (EVENT_PUBLISH_REPLICAS=1), rather than risk a second loss.
    await sleep(3_000);
    await cluster.restart(killed);
    await sleep(1_000);
    const sent = await load.stop();
    await expectAllDelivered(user, sent);
    console.log(`Redis Cluster failover: primary :${killed} killed, replica :${promoted} took over; ${sent.messages.length} messages and ${sent.tasks.length} runs, every event delivered once`);
  });

  it('counts an event as published only once a replica has it: a frozen replica fails the publish, the retry adds nothing twice', { timeout: 60_000 }, async () => {
    const key = streamKey(prefix, TOPICS.tasks);
    const replica = await cluster.replicaOf(key);
    const event = {
      specversion: '1.0', id: uniqueId('replicated'), source: '/task-agent/test', type: 'task.created', topic: TOPICS.tasks,
      datacontenttype: 'application/json', time: new Date().toISOString(), data: { task_id: uniqueId('replicated-task') },
    } as unknown as CloudEvent;
    const options = { prefix, maxLength: 10_000, replicas: 1 };
    cluster.freeze(replica, true);
    try {
      await expect(publishEvent(h.redis, options, event)).rejects.toBeInstanceOf(EventNotReplicated);
    } finally {
      cluster.freeze(replica, false);
    }
    // The retry finds the marker, adds nothing, and now the replica confirms the write it missed.
    await expect(publishEvent(h.redis, options, event)).resolves.toBe(false);
    expect((await published(TOPICS.tasks)).filter((e) => e.id === event.id)).toHaveLength(1);
    await cluster.waitHealthy();
  });
});
