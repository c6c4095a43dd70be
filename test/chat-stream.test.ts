/**
 * Streamed turns and the chat's event stream, against the real dev server, Redis and a scripted model that
 * streams (OpenAI `chat.completion.chunk` events, with pauses): `POST /chat/{user}` with
 * `Accept: text/event-stream` read by the AI SDK's own reader, `GET /chat/{user}/events` with several
 * readers, Last-Event-ID resume, a retried model call, approvals, task changes, rights, limits, heartbeats
 * and readers that go away. Real signed tokens (HS256).
 */
import { parseJsonEventStream, readUIMessageStream, uiMessageChunkSchema, type UIMessage, type UIMessageChunk } from 'ai';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { pino } from 'pino';
import { createApi } from '../api/app';
import { describe, expect, it } from 'vitest';
import { eventually, uniqueId } from './helpers/harness';
import { withScriptedModel } from './helpers/model-harness';
import { TEST_JWT_SECRET, person, tokenFor } from './helpers/people';
import { scripted, scriptedFor } from './helpers/model-server';
import { SseClient } from './helpers/sse';

const ctx = withScriptedModel({
  env: { AUTH_JWT_SECRET: TEST_JWT_SECRET, STREAM_HEARTBEAT_SECONDS: '1', STREAM_MAX_PER_USER: '3', AGENT_APPROVAL_TIMEOUT: '3s' },
});



const feed = (user: { id: string; auth: Record<string, string> }, lastEventId?: string) =>
  new SseClient(`${ctx.h.baseUrl}/chat/${user.id}/events`, { headers: { ...user.auth, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) } });

const sendJson = (user: { id: string; auth: Record<string, string> }, content: string) =>
  ctx.h.fetch(`/chat/${user.id}`, { method: 'POST', headers: { ...user.auth, 'content-type': 'application/json' }, body: JSON.stringify({ content }) });

const streamedTurn = (user: { id: string; auth: Record<string, string> }, content: string) =>
  ctx.h.fetch(`/chat/${user.id}`, {
    method: 'POST',
    headers: { ...user.auth, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ content }),
  });

/** Reads a response the way an AI SDK client does: its schema checks each chunk, its reader builds the message. */
async function readWithAiSdk(response: Response): Promise<{ chunks: UIMessageChunk[]; message: UIMessage | undefined }> {
  const chunks: UIMessageChunk[] = [];
  const parsed = parseJsonEventStream({ stream: response.body!, schema: uiMessageChunkSchema }).pipeThrough(
    new TransformStream({
      transform(result, controller) {
        if (!result.success) throw new Error(`not a UI message chunk: ${String(result.error)} in ${JSON.stringify(result.rawValue)}`);
        chunks.push(result.value);
        controller.enqueue(result.value);
      },
    }),
  );
  let message: UIMessage | undefined;
  for await (const m of readUIMessageStream({ stream: parsed })) message = m;
  return { chunks, message };
}

const textOf = (message: UIMessage | undefined) =>
  (message?.parts ?? []).flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('');

describe('a streamed turn (POST /chat with Accept: text/event-stream)', () => {
  it('sends the text as the model writes it, and the AI SDK reads the stream as it is', async () => {
    const alice = await person('alice-stream');
    ctx.model.respond = scripted({ text: 'One two three four five.', stream: { pauseMs: 250 } });
    const started = performance.now();
    const response = await streamedTurn(alice, 'Count to five');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');

    let firstTextAt: number | undefined;
    const [tee1, tee2] = response.body!.tee();
    const watch = (async () => {
      const decoder = new TextDecoder();
      for await (const bytes of tee2) if (firstTextAt === undefined && decoder.decode(bytes as Uint8Array).includes('"text-delta"')) firstTextAt = performance.now();
    })();
    const { chunks, message } = await readWithAiSdk(new Response(tee1));
    await watch;

    const request = ctx.model.requests.at(-1)!;
    expect(request.stream).toBe(true);
    // The first words were on screen before the model had written its last one.
    expect(firstTextAt).toBeGreaterThan(started);
    expect(firstTextAt!).toBeLessThan(request.lastChunkAt!);
    expect(chunks.filter((c) => c.type === 'text-delta').length).toBe(5);
    expect(textOf(message)).toBe('One two three four five.');
    expect(chunks.map((c) => c.type).slice(-2)).toEqual(['data-entry', 'finish']);
    const entry = chunks.find((c) => c.type === 'data-entry') as { data: { assistant_message: { content: string } } };
    expect(entry.data.assistant_message.content).toBe('One two three four five.');
    // The turn is recorded as without streaming.
    const history = (await ctx.h.fetch(`/chat/${alice.id}/history`, { headers: alice.auth }).then((r) => r.json())) as { messages: unknown[] };
    expect(history.messages.at(-1)).toMatchObject({ role: 'assistant', content: 'One two three four five.' });
  });

  it('shows each tool call start and finish with its summary, and the change that waits for approval', async () => {
    const alice = await person('alice-tools');
    const created = await ctx.h.fetch('/tasks', {
      method: 'POST',
      headers: { ...alice.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Stream me', description: 'x' }),
    });
    const task = (await created.json()) as { task_id: string };
    const bob = await person('bob-tools');
    ctx.model.respond = scripted(
      { toolCalls: [{ name: 'get_task', arguments: { task_id: task.task_id }, id: 'call_get' }] },
      { toolCalls: [{ name: 'assign_task', arguments: { task_id: task.task_id, assignee: bob.email }, id: 'call_assign' }] },
      { text: 'Bob has it now.' },
    );
    const { chunks, message } = await readWithAiSdk(await streamedTurn(alice, 'Give it to Bob'));
    const get = chunks.find((c) => c.type === 'tool-input-available' && c.toolName === 'get_task') as { toolCallId: string; title?: string };
    expect(get.title).toBe(`get_task ${task.task_id}`);
    expect(chunks.some((c) => c.type === 'tool-output-available' && c.toolCallId === get.toolCallId)).toBe(true);
    const toolParts = (message?.parts ?? []).filter((p) => p.type.startsWith('tool-'));
    expect(toolParts.map((p) => [p.type, (p as { state: string }).state])).toEqual([
      ['tool-get_task', 'output-available'],
      ['tool-assign_task', 'output-available'],
    ]);
    expect(textOf(message)).toBe('Bob has it now.');

    // Taking back a task Bob has now waits for Alice's approval: the stream ends with the request.
    ctx.model.respond = scripted({ toolCalls: [{ name: 'assign_task', arguments: { task_id: task.task_id, assignee: alice.email }, id: 'call_back' }] });
    const asked = await readWithAiSdk(await streamedTurn(alice, 'Give it back to me'));
    const { approvals } = (await ctx.h.fetch(`/chat/${alice.id}/approvals`, { headers: alice.auth }).then((r) => r.json())) as { approvals: { approval_id: string; tool_call_id: string }[] };
    expect(approvals).toHaveLength(1);
    const request = asked.chunks.find((c) => c.type === 'tool-approval-request') as { approvalId: string; toolCallId: string };
    expect(request).toEqual({ type: 'tool-approval-request', approvalId: approvals[0]!.approval_id, toolCallId: approvals[0]!.tool_call_id });
    const part = asked.message?.parts.find((p) => p.type === 'tool-assign_task') as { state: string; approval?: { id: string } };
    expect(part).toMatchObject({ state: 'approval-requested', approval: { id: approvals[0]!.approval_id } });
  });

  it('drops the partial text of a model call that failed and was tried again', async () => {
    const alice = await person('alice-retry');
    ctx.model.respond = scripted(
      { text: 'Broken answer that never ends', stream: { failAfter: 2 } },
      { text: 'The whole answer.', stream: { pauseMs: 20 } },
    );
    const { chunks, message } = await readWithAiSdk(await streamedTurn(alice, 'Hello'));
    const starts = chunks.filter((c) => c.type === 'text-start').map((c) => (c as { id: string }).id);
    expect(starts).toHaveLength(2);
    expect(starts[0]).toMatch(/:1:1$/);
    expect(starts[1]).toMatch(/:1:2$/);
    expect(chunks).toContainEqual(expect.objectContaining({ type: 'data-text-discarded', data: expect.objectContaining({ id: starts[0] }) }));
    // What a client shows once it drops the discarded part: the second attempt's text alone.
    const discarded = new Set(chunks.flatMap((c) => (c.type === 'data-text-discarded' ? [(c.data as { id: string }).id] : [])));
    const kept = chunks.flatMap((c) => (c.type === 'text-delta' && !discarded.has(c.id) ? [c.delta] : []));
    expect(kept.join('')).toBe('The whole answer.');
    expect(message?.parts.filter((p) => p.type === 'text').map((p) => (p as { text: string }).text)).toEqual(['Broken answer', 'The whole answer.']);
    expect(ctx.model.requests.filter((r) => r.stream).length).toBeGreaterThanOrEqual(2);
  });

  it('ends with the recorded reply as text when the streamed words do not add up to it', async () => {
    const alice = await person('alice-preamble');
    // The model says something before its tool call; the reply the chat records is the last step's words.
    ctx.model.respond = scripted(
      { text: 'Let me look.', toolCalls: [{ name: 'get_current_time', arguments: {} }], stream: { pauseMs: 10 } },
      { text: 'It is late.', stream: { pauseMs: 10 } },
    );
    const { chunks, message } = await readWithAiSdk(await streamedTurn(alice, 'What time is it?'));
    const discarded = new Set(chunks.flatMap((c) => (c.type === 'data-text-discarded' ? [(c.data as { id: string }).id] : [])));
    const textParts = chunks.filter((c) => c.type === 'text-start').map((c) => (c as { id: string }).id);
    expect(textParts).toHaveLength(3);
    expect([...discarded]).toEqual(textParts.slice(0, 2));
    const kept = chunks.flatMap((c) => (c.type === 'text-delta' && !discarded.has(c.id) ? [c.delta] : []));
    expect(kept.join('')).toBe('It is late.');
    expect(message?.parts.filter((p) => p.type === 'text').at(-1)).toMatchObject({ text: 'It is late.' });
  });

  it('answers as before without the header, and refuses another user (403) and a missing token (401) before streaming', async () => {
    const alice = await person('alice-plain');
    const bob = await person('bob-plain');
    ctx.model.respond = scripted({ text: 'Plain.' });
    const plain = await sendJson(alice, 'hi');
    expect(plain.status).toBe(200);
    expect(await plain.json()).toMatchObject({ role: 'assistant', content: 'Plain.' });
    expect((await streamedTurn({ id: alice.id, auth: bob.auth }, 'hi')).status).toBe(403);
    expect((await streamedTurn({ id: alice.id, auth: {} }, 'hi')).status).toBe(401);
    const invalid = await ctx.h.fetch(`/chat/${alice.id}`, {
      method: 'POST',
      headers: { ...alice.auth, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ content: '' }),
    });
    expect(invalid.status).toBe(422);
  });
});

describe('the chat event stream (GET /chat/{user}/events)', () => {
  it('shows a turn to every open tab, and resumes after Last-Event-ID with nothing missing or twice', async () => {
    const alice = await person('alice-feed');
    const tab1 = feed(alice);
    const tab2 = feed(alice);
    await tab1.chunk('data-connected');
    await tab2.chunk('data-connected');
    ctx.model.respond = scripted({ text: 'Alpha beta gamma delta epsilon zeta.', stream: { pauseMs: 30 } });
    const reply = await sendJson(alice, 'Say six words');
    expect(reply.status).toBe(200);
    for (const tab of [tab1, tab2]) {
      await tab.chunk('data-entry');
      await tab.chunk('finish');
    }
    const seen = (tab: SseClient) => tab.frames.filter((f) => f.chunk && f.chunk.type !== 'data-connected').map((f) => f.data);
    expect(seen(tab2)).toEqual(seen(tab1));
    const text = tab1.chunks.filter((c) => c.type === 'text-delta').map((c) => c.delta).join('');
    expect(text).toBe('Alpha beta gamma delta epsilon zeta.');
    expect(tab1.chunks.find((c) => c.type === 'data-user-message')).toMatchObject({ data: { content: 'Say six words' } });

    // A tab whose connection dropped after the third word comes back with the id it had then.
    const framesWithId = tab1.frames.filter((f) => f.id !== undefined && f.chunk?.type !== 'data-connected');
    const cut = tab1.frames.indexOf(framesWithId.find((f) => f.chunk?.type === 'text-delta' && f.chunk.delta === ' gamma')!);
    const resumed = feed(alice, tab1.frames[cut]!.id);
    await resumed.chunk('finish');
    const after = tab1.frames.slice(cut + 1).filter((f) => f.chunk).map((f) => f.data);
    const got = resumed.frames.filter((f) => f.chunk && f.chunk.type !== 'data-connected').map((f) => f.data);
    // The resumed tab restarts the text part it was in the middle of, then gets exactly what it missed.
    expect(got.filter((d) => !d!.includes('"text-start"') && !d!.includes('"start"'))).toEqual(after.filter((d) => !d!.includes('"start"')));
    expect(resumed.chunks.filter((c) => c.type === 'text-delta').map((c) => c.delta).join('')).toBe(' delta epsilon zeta.');
    for (const tab of [tab1, tab2, resumed]) tab.close();
  });

  it('shows a turn sent through one API replica to a reader on another', async () => {
    const alice = await person('alice-replicas');
    // A second API process on the same Temporal and Redis, as a second replica behind a load balancer.
    const other = createApi({ config: ctx.h.config, client: ctx.h.client, redis: ctx.h.redis, logger: pino({ level: 'silent' }) });
    const server = serve({ fetch: other.app.fetch, hostname: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const tab = new SseClient(`${url}/chat/${alice.id}/events`, { headers: alice.auth });
      await tab.chunk('data-connected');
      // Only this chat's call takes the answer: a late retry of another test's turn must not use it up.
      ctx.model.respond = scriptedFor('Hello from the replicas test', { text: 'From the other replica.', stream: { pauseMs: 20 } });
      expect((await sendJson(alice, 'Hello from the replicas test')).status).toBe(200);
      const entry = await tab.chunk('data-entry');
      expect(entry.data).toMatchObject({ assistant_message: { content: 'From the other replica.' } });
      expect(tab.chunks.filter((c) => c.type === 'text-delta').map((c) => c.delta).join('')).toBe('From the other replica.');
      tab.close();
    } finally {
      await other.close();
      server.close();
    }
  });

  it("carries changes to the reader's own tasks only, and approvals asked and expired", async () => {
    const alice = await person('alice-tasks');
    const bob = await person('bob-tasks');
    const admin = await tokenFor(uniqueId('root'), { scope: 'admin' });
    const tab = feed(alice);
    await tab.chunk('data-connected');
    const make = async (assignee: string) => {
      const res = await ctx.h.fetch('/tasks/process', {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ task_id: uniqueId('t'), title: 'Quarterly report', description: 'Numbers for the board', assignee, deadline_seconds: 3600 }),
      });
      const body = (await res.json()) as { workflow_id: string };
      expect(res.status, JSON.stringify(body)).toBe(200);
      return body.workflow_id.replace('task-workflow-', '');
    };
    const hers = await make(alice.email);
    const his = await make(bob.email);
    await tab.chunk('data-task', (c) => (c.data as { task: { task_id: string; status: string } }).task.task_id === hers && (c.data as { task: { status: string } }).task.status === 'assigned');
    // Taking Bob's task waits for Alice's approval.
    ctx.model.respond = scripted({ toolCalls: [{ name: 'assign_task', arguments: { task_id: his, assignee: alice.email }, id: 'call_x' }] }, { text: 'Not taken.' });
    await sendJson(alice, "Take Bob's task");
    const approvals = await tab.chunk('data-approvals', (c) => ((c.data as { approvals: unknown[] }).approvals.length === 1));
    const approvalId = (approvals.data as { approvals: { approval_id: string; summary: string }[] }).approvals[0]!.approval_id;
    expect(tab.chunks).toContainEqual(expect.objectContaining({ type: 'tool-approval-request', approvalId }));
    // A reply outside that turn (an undo with nothing to undo) says the approval still waits.
    const before = tab.chunks.length;
    expect((await ctx.h.fetch(`/chat/${alice.id}/undo`, { method: 'POST', headers: alice.auth })).status).toBe(200);
    await tab.waitFor((f) => f.chunk?.type === 'data-entry' && tab.frames.indexOf(f) >= before, 10_000, 'the undo reply');
    const afterUndo = tab.chunks.slice(before).filter((c) => c.type === 'data-approvals');
    expect(afterUndo.map((c) => (c.data as { approvals: { approval_id: string }[] }).approvals.map((a) => a.approval_id))).toEqual([[approvalId]]);
    // Nobody decides: after AGENT_APPROVAL_TIMEOUT the list is empty again and the call is denied.
    await tab.chunk('data-approvals', (c) => (c.data as { approvals: unknown[] }).approvals.length === 0, 20_000);
    expect(tab.chunks).toContainEqual(expect.objectContaining({ type: 'tool-output-denied' }));
    // Bob's task went through the same streams, and was never shown to Alice.
    expect(tab.chunks.filter((c) => c.type === 'data-task').map((c) => (c.data as { task: { task_id: string } }).task.task_id)).not.toContain(his);
    tab.close();
  });

  it('is the user\'s own: 403 for another user, 401 without a token, 422 for a Last-Event-ID it never sent', async () => {
    const alice = await person('alice-rights');
    const bob = await person('bob-rights');
    const other = new SseClient(`${ctx.h.baseUrl}/chat/${alice.id}/events`, { headers: bob.auth });
    await other.done;
    expect(other.status).toBe(403);
    const none = new SseClient(`${ctx.h.baseUrl}/chat/${alice.id}/events`);
    await none.done;
    expect(none.status).toBe(401);
    const bad = feed(alice, 'not-an-id');
    await bad.done;
    expect(bad.status).toBe(422);
  });

  it('sends heartbeats, limits streams per user, and leaves nothing subscribed when readers go away', async () => {
    const carol = await person('carol-limits');
    const gauge = async (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(await ctx.h.metrics())?.[1]);
    const before = await gauge('task_agent_stream_subscriptions');
    const tabs = [feed(carol), feed(carol), feed(carol)];
    for (const tab of tabs) await tab.chunk('data-connected');
    const fourth = feed(carol);
    await fourth.done;
    expect(fourth.status).toBe(429);
    expect(fourth.headers.get('retry-after')).toBeTruthy();
    // A heartbeat carries the resume point, so an idle tab's Last-Event-ID keeps up with what it passed over.
    const ping = await tabs[0]!.waitFor((f) => f.comment === 'ping', 5_000, 'a heartbeat');
    expect(ping.id).toMatch(/^\d+-\d+_\d+-\d+_\d+-\d+$/);
    expect(await gauge('task_agent_stream_subscriptions')).toBe(before + 3);
    for (const tab of tabs) tab.close();
    await eventually(() => gauge('task_agent_stream_subscriptions'), (n) => n === before);
    await eventually(() => gauge('task_agent_open_streams'), (n) => n === before);
    // The slots are free again.
    const again = feed(carol);
    await again.chunk('data-connected');
    again.close();
  });
});
