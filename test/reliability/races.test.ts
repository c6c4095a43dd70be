/**
 * Races at the edges where clients collide: duplicate processing requests, and a burst of chat messages
 * from one user. (100 concurrent conditional updates are in test/crud.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../../workflows/shared/cloudevents';
import { Harness, eventually, seedTask, uniqueId } from '../helpers/harness';
import { streamEvents } from '../helpers/streams';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
});
afterAll(() => h?.close());

describe('races', () => {
  it('20 clients POST /tasks/process for one task at once: one run starts, 19 get 409', async () => {
    const taskId = uniqueId('dup-race');
    const answers = await Promise.all(Array.from({ length: 20 }, () => h.postJson('/tasks/process', seedTask(taskId))));
    const statuses = answers.map((a) => a.status).sort();
    console.log(`duplicate POSTs: ${statuses.filter((s) => s === 200).length}x200, ${statuses.filter((s) => s === 409).length}x409`);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    const done = await eventually(() => h.getJson(`/workflows/task-workflow-${taskId}`), (r) => r.body.status === 'COMPLETED');
    expect((done.body.output as { status: string }).status).toBe('completed');
    // One run, one task: created once, assigned once.
    expect((await h.getJson(`/tasks/${taskId}`)).body).toMatchObject({ status: 'assigned', version: 3 });
  });

  it('100 concurrent messages from one user are each handled once, in one order, none lost', { timeout: 120_000 }, async () => {
    const user = uniqueId('user-burst');
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => h.postJson(`/chat/${user}`, { content: `burst ${i}` })));
    // Every answer a 200; if not, the failures themselves are the useful message.
    expect(replies.filter((r) => r.status !== 200).slice(0, 3)).toEqual([]);
    const numbers = replies.map((r) => Number(/#(\d+)/.exec(r.body.content as string)![1]));
    expect([...numbers].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));

    // The history keeps the last 10 exchanges; the events record all 100, in the order they were handled.
    const { messages } = (await h.getJson(`/chat/${user}/history`)).body as { messages: { content: string }[] };
    expect(messages.filter((_, i) => i % 2 === 1).map((m) => m.content)).toEqual(
      Array.from({ length: 10 }, (_, i) => `Understood. I'm tracking our conversation (message #${91 + i}).`),
    );
    const events = await eventually(
      async () =>
        (await streamEvents<{ user_id: string; assistant_message: { content: string } }>(h.redis, h.config.REDIS_KEY_PREFIX, TOPICS.conversations)).filter(
          (e) => e.data.user_id === user,
        ),
      (e) => e.length >= 100,
      { timeoutMs: 60_000 },
    );
    console.log(`burst: ${events.length} conversation.updated events, ${new Set(events.map((e) => e.id)).size} distinct ids`);
    expect(events.map((e) => Number(/#(\d+)/.exec(e.data.assistant_message.content)![1]))).toEqual(
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
  });
});
