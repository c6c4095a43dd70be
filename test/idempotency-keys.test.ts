/**
 * A resent request is one request: the Idempotency-Key header (IETF httpapi draft) on POST /chat/{user_id},
 * /undo, /approvals/{id} and POST /tasks. The same key and body get the first answer (a resend while the first
 * still runs waits for it), the same key with another body 422, and keys hold across continue-as-new. On main
 * before the fix a resent chat message was a second turn (two tasks created).
 */
import { describe, expect, it } from 'vitest';
import type { ChatEntry } from '../common/schemas';
import { chatEntityWorkflowId } from '../workflows/shared/ids';
import { createEntity, readTask } from './helpers/entity';
import { eventually, uniqueId } from './helpers/harness';
import { withScriptedModel } from './helpers/model-harness';
import { scripted } from './helpers/model-server';

const ctx = withScriptedModel();

const post = async (path: string, body: unknown, key?: string) => {
  const res = await ctx.h.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key !== undefined ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
};
const historyOf = async (user: string) => (await ctx.h.getJson(`/chat/${user}/history`)).body.messages as ChatEntry[];
/** Titles of the tasks the model created, found by the marker in their titles. */
const createdWith = (marker: string) =>
  ctx.model.requests.flatMap((r) => r.messages).filter((m) => m.role === 'tool' && m.content?.includes(marker) && m.content.includes('"task_id"')).length;

describe('Idempotency-Key on a chat message', () => {
  it('answers a resend with the first answer, one turn and one task', async () => {
    const user = uniqueId('user-key');
    const title = `Keyed ${uniqueId('t')}`;
    ctx.model.respond = scripted({ toolCalls: [{ name: 'create_task', arguments: { title, description: 'Made once, however often asked' } }] }, { text: `Created "${title}".` });
    const key = `"${uniqueId('key')}"`;
    const first = await post(`/chat/${user}`, { content: 'Create the task' }, key);
    expect(first.status).toBe(200);
    const again = await post(`/chat/${user}`, { content: 'Create the task' }, key);
    expect(again).toMatchObject({ status: 200, body: first.body });
    expect(ctx.model.requests.filter((r) => r.messages.some((m) => m.content === 'Create the task'))).toHaveLength(2); // one turn: two model calls
    expect(createdWith(title)).toBe(1);
    expect(await historyOf(user)).toHaveLength(2);
    // Without a key, the same message is a new one.
    ctx.model.respond = scripted({ text: 'Again?' });
    expect((await post(`/chat/${user}`, { content: 'Create the task' })).body.content).toBe('Again?');
  });

  it('makes a resend while the first still runs wait for its answer', async () => {
    const user = uniqueId('user-key-wait');
    ctx.model.respond = scripted({ text: 'Slow answer.', delayMs: 1_500 });
    const key = uniqueId('key');
    const first = post(`/chat/${user}`, { content: 'Take your time' }, key);
    await new Promise((r) => setTimeout(r, 300));
    const second = post(`/chat/${user}`, { content: 'Take your time' }, key);
    const [a, b] = await Promise.all([first, second]);
    expect(a).toMatchObject({ status: 200, body: { content: 'Slow answer.' } });
    expect(b.body).toEqual(a.body);
    expect(ctx.model.requests.filter((r) => r.messages.some((m) => m.content === 'Take your time'))).toHaveLength(1);
  });

  it('refuses the same key with another body (422), and a malformed key (422)', async () => {
    const user = uniqueId('user-key-reuse');
    ctx.model.respond = scripted({ text: 'First.' });
    const key = uniqueId('key');
    expect((await post(`/chat/${user}`, { content: 'one thing' }, key)).status).toBe(200);
    const reused = await post(`/chat/${user}`, { content: 'another thing' }, key);
    expect(reused.status).toBe(422);
    expect(String(reused.body.detail)).toMatch(/^Idempotency-Key .* was sent before with another request/);
    for (const bad of ['', 'x'.repeat(256), 'tab\there', 'ünïcode']) {
      const res = await ctx.h.fetch(`/chat/${user}`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': bad }, body: '{"content":"hi"}' }).catch(() => undefined);
      if (res === undefined) continue; // fetch itself refuses some header values
      expect(res.status, JSON.stringify(bad)).toBe(422);
      expect(((await res.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(['idempotency-key']);
    }
    expect(await historyOf(user)).toHaveLength(2);
  });

  it('keeps keys across continue-as-new', { timeout: 60_000 }, async () => {
    const user = uniqueId('user-key-can');
    const started = await ctx.h.client.workflow.start('ChatEntityWorkflow', {
      workflowId: chatEntityWorkflowId(user),
      taskQueue: ctx.h.config.TASK_QUEUE,
      args: [{ user_id: user, history_limit: 40 }],
    });
    ctx.model.respond = () => ({ text: 'A reply.' });
    const key = uniqueId('key');
    const first = await post(`/chat/${user}`, { content: 'keyed' }, key);
    for (let i = 0; (await started.describe()).runId === started.firstExecutionRunId; i++) {
      expect(i).toBeLessThan(40);
      await post(`/chat/${user}`, { content: `filler ${i}` });
    }
    const entries = (await historyOf(user)).length;
    const again = await post(`/chat/${user}`, { content: 'keyed' }, key);
    expect(again.body).toEqual(first.body);
    expect(await historyOf(user)).toHaveLength(entries);
    expect((await post(`/chat/${user}`, { content: 'not the same' }, key)).status).toBe(422);
  });
});

describe('Idempotency-Key on undo and approvals', () => {
  it('answers a resent undo and a resent decision with their first answers', async () => {
    const user = uniqueId('user-key-undo');
    const taskId = uniqueId('key-undo-task');
    await createEntity(ctx.h, taskId);
    expect((await post(`/chat/${user}`, { content: `/assign ${taskId} erin@example.com` })).status).toBe(200);
    const key = uniqueId('key');
    const undone = await post(`/chat/${user}/undo`, {}, key);
    expect(undone.body.content).toMatch(/^Undid the task changes/);
    expect(await post(`/chat/${user}/undo`, {}, key)).toMatchObject({ status: 200, body: undone.body });
    // Without the key a second undo is a new request: nothing left.
    expect((await post(`/chat/${user}/undo`, {})).body.content).toMatch(/^Nothing to undo/);

    await post(`/chat/${user}`, { content: `/delete ${taskId}` });
    const [approval] = (await ctx.h.getJson(`/chat/${user}/approvals`)).body.approvals as { approval_id: string }[];
    const decisionKey = uniqueId('key');
    const decided = await post(`/chat/${user}/approvals/${approval!.approval_id}`, { approved: false }, decisionKey);
    expect(decided.status).toBe(200);
    expect(await post(`/chat/${user}/approvals/${approval!.approval_id}`, { approved: false }, decisionKey)).toMatchObject({ status: 200, body: decided.body });
    expect((await post(`/chat/${user}/approvals/${approval!.approval_id}`, { approved: true }, decisionKey)).status).toBe(422);
    expect((await post(`/chat/${user}/approvals/${approval!.approval_id}`, { approved: false })).status).toBe(404);
    expect(await readTask(ctx.h, taskId)).toMatchObject({ version: 3 });
  });
});

describe('Idempotency-Key on POST /tasks', () => {
  it('creates one task however often the request is sent', async () => {
    const key = uniqueId('key');
    const body = { title: 'Created once', description: 'by key', priority: 3 };
    const first = await post('/tasks', body, key);
    expect(first.status).toBe(201);
    const again = await post('/tasks', { priority: 3, description: 'by key', title: 'Created once' }, key);
    expect(again).toMatchObject({ status: 201, body: first.body });
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    // The task moves on; the resend still gets the answer it first got.
    await ctx.h.fetch(`/tasks/${first.body.task_id}/status?status=completed`, { method: 'PUT' });
    expect((await post('/tasks', body, key)).body).toEqual(first.body);
    expect((await post('/tasks', { ...body, title: 'Something else' }, key)).status).toBe(422);
    const other = await post('/tasks', body, uniqueId('key'));
    expect(other.body.task_id).not.toBe(first.body.task_id);
    await eventually(() => ctx.h.getJson(`/tasks/${first.body.task_id}`), (r) => r.body.status === 'completed');
  });
});
