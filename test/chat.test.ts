/**
 * The chat entity through HTTP: the seed's Test 3, the 10-exchange cap, order under concurrency, clearing,
 * bad input, and replies from a language model (the scripted OpenAI-compatible server) with their fallback.
 * The agent's tools, approvals and undo are in agent.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, uniqueId } from './helpers/harness';
import { startModelServer, type ModelServer } from './helpers/model-server';

type Entry = { role: string; content: string; timestamp: string };

describe('chat entity (rule-based replies)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
  });
  afterAll(() => h?.close());

  const send = (user: string, content: string) => h.postJson(`/chat/${user}`, { content });
  const historyOf = async (user: string) => (await h.getJson(`/chat/${user}/history`)).body as { user_id: string; messages: Entry[] };

  it('answers the seed Test 3 exactly', async () => {
    const user = uniqueId('user-alice');
    const reply = await send(user, 'What tasks do I have?');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      role: 'assistant',
      content: 'I can help with tasks. You have 1 messages in our conversation.',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect((await send(user, 'help me please')).body.content).toBe(
      "I'm your task management assistant. Ask me about creating, assigning, or tracking tasks.",
    );
    expect((await send(user, 'Good morning')).body.content).toBe("Understood. I'm tracking our conversation (message #3).");
    const history = await historyOf(user);
    expect(history.user_id).toBe(user);
    expect(history.messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'What tasks do I have?'],
      ['assistant', 'I can help with tasks. You have 1 messages in our conversation.'],
      ['user', 'help me please'],
      ['assistant', "I'm your task management assistant. Ask me about creating, assigning, or tracking tasks."],
      ['user', 'Good morning'],
      ['assistant', "Understood. I'm tracking our conversation (message #3)."],
    ]);
  });

  it('keeps the last 10 exchanges (20 entries), oldest dropped first', async () => {
    const user = uniqueId('user-long');
    for (let i = 1; i <= 12; i++) await send(user, `note ${i}`);
    const { messages } = await historyOf(user);
    expect(messages).toHaveLength(20);
    expect(messages[0]).toMatchObject({ role: 'user', content: 'note 3' });
    expect(messages[19]).toMatchObject({ role: 'assistant', content: "Understood. I'm tracking our conversation (message #12)." });
  });

  it('handles concurrent messages from one user one at a time, losing none', async () => {
    const user = uniqueId('user-busy');
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => send(user, `burst ${i}`)));
    // Each message got its own turn: the reply numbers are 1..10, each once.
    const numbers = replies.map((r) => Number(/#(\d+)/.exec(r.body.content as string)![1]));
    expect([...numbers].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // The history interleaves strictly: user, its reply, user, its reply... in reply-number order.
    const { messages } = await historyOf(user);
    expect(messages).toHaveLength(20);
    for (let turn = 0; turn < 10; turn++) {
      expect(messages[2 * turn]!.role).toBe('user');
      expect(messages[2 * turn + 1]!.content).toBe(`Understood. I'm tracking our conversation (message #${turn + 1}).`);
      const sentIndex = Number(messages[2 * turn]!.content.split(' ')[1]);
      expect(numbers[sentIndex]).toBe(turn + 1);
    }
  });

  it('clears the history, and counting starts again', async () => {
    const user = uniqueId('user-clear');
    await send(user, 'first');
    const cleared = await h.fetch(`/chat/${user}/history`, { method: 'DELETE' });
    expect(cleared.status).toBe(204);
    expect((await historyOf(user)).messages).toEqual([]);
    expect((await send(user, 'again')).body.content).toBe("Understood. I'm tracking our conversation (message #1).");
  });

  it('asks the worker for a model once, not for every message, when it has none', async () => {
    const user = uniqueId('user-rules');
    for (const content of ['one', 'two', 'three']) expect((await send(user, content)).status).toBe(200);
    const { events } = await h.client.workflow.getHandle(`chat-entity-${user}`).fetchHistory();
    const localActivities = (events ?? []).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
    expect(localActivities).toHaveLength(1);
    expect((await historyOf(user)).messages.at(-1)?.content).toBe("Understood. I'm tracking our conversation (message #3).");
  });

  it('gives an empty history to a user who never wrote, and 204 to clearing it', async () => {
    const user = uniqueId('user-new');
    expect(await h.getJson(`/chat/${user}/history`)).toEqual({ status: 200, body: { user_id: user, messages: [] } });
    expect((await h.fetch(`/chat/${user}/history`, { method: 'DELETE' })).status).toBe(204);
  });

  it.each([
    ['empty content', '/chat/u1', JSON.stringify({ content: '' }), 422, 'content'],
    ['blank content', '/chat/u1', JSON.stringify({ content: '   ' }), 422, 'content'],
    ['oversized content', '/chat/u1', JSON.stringify({ content: 'x'.repeat(4001) }), 422, 'content'],
    ['content as a number', '/chat/u1', JSON.stringify({ content: 7 }), 422, 'content'],
    ['missing content', '/chat/u1', '{}', 422, 'content'],
    ['control characters', '/chat/u1', JSON.stringify({ content: 'a\u0001b' }), 422, 'content'],
    ['a bad user id', '/chat/a%20b', JSON.stringify({ content: 'hi' }), 422, 'user_id'],
    ['a traversal user id', '/chat/..%2Ftask-entity-x', JSON.stringify({ content: 'hi' }), 422, 'user_id'],
    ['not JSON', '/chat/u1', 'content=hi', 400, 'body'],
  ])('refuses %s', async (_name, path, body, status, field) => {
    const res = await h.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(status);
    const answer = (await res.json()) as { errors: { field: string }[] };
    expect(answer.errors.map((e) => e.field)).toContain(field);
  });
});

describe('chat replies from a language model', () => {
  let model: ModelServer;
  let h: Harness;
  beforeAll(async () => {
    model = await startModelServer(() => ({ text: 'You have two open tasks.' }));
    h = await Harness.start({ env: { LLM_BASE_URL: model.url, LLM_MODEL: 'test-model', LLM_API_KEY: 'sk-test' } });
  });
  afterAll(async () => {
    await h?.close();
    model?.close();
  });

  it('sends the instructions, the recent history and the tools to the model and answers with its message', async () => {
    const user = uniqueId('user-llm');
    await h.postJson(`/chat/${user}`, { content: 'hello' });
    const reply = await h.postJson(`/chat/${user}`, { content: 'What tasks do I have?' });
    expect(reply.body.content).toBe('You have two open tasks.');
    const last = model.requests.at(-1)!;
    expect(last.headers.authorization).toBe('Bearer sk-test');
    expect(last.model).toBe('test-model');
    expect(last.messages[0]).toMatchObject({ role: 'system', content: expect.stringMatching(/^You are a task management assistant/) });
    expect(last.messages.slice(1)).toEqual([
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'You have two open tasks.' },
      { role: 'user', content: 'What tasks do I have?' },
    ]);
    expect(last.tools?.length).toBe(12);
  });

  it('falls back to the rules, saying so, after the model failed 4 times', async () => {
    const user = uniqueId('user-llm-down');
    const before = model.requests.length;
    model.respond = () => ({ status: 503, body: 'overloaded' });
    try {
      const reply = await h.postJson(`/chat/${user}`, { content: 'Any task for me?' });
      expect(reply.body.content).toBe('The model is unavailable right now, so I answered by my rules: I can help with tasks. You have 1 messages in our conversation.');
      expect(model.requests.length - before).toBe(4);
    } finally {
      model.respond = () => ({ text: 'You have two open tasks.' });
    }
  });
});
