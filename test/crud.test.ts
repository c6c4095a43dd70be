/**
 * The seed's task CRUD with ETags, and listing through Temporal visibility. Real API, worker and server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../workflows/shared/cloudevents';
import { Harness, eventually, seedTask, uniqueId } from './helpers/harness';
import { streamEvents } from './helpers/streams';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
});
afterAll(() => h?.close());

const put = (taskId: string, init: { query?: string; body?: unknown; ifMatch?: string }) =>
  h.fetch(`/tasks/${taskId}/status${init.query ? `?${init.query}` : ''}`, {
    method: 'PUT',
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.ifMatch !== undefined ? { 'if-match': init.ifMatch } : {}),
    },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });

/** The ETag of `task` at `version`: the version and the task's incarnation (its creation time). */
const etag = (task: Record<string, unknown>, version: number) => `"${version}-${Date.parse(task.created_at as string).toString(36)}"`;

async function createTask(body: Record<string, unknown> = { title: 'Learn Dapr building blocks', priority: 2 }) {
  const res = await h.fetch('/tasks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { res, task: (await res.json()) as Record<string, unknown> };
}

describe('task CRUD', () => {
  it('creates a task with a generated id, an ETag and a Location', async () => {
    const { res, task } = await createTask();
    expect(res.status).toBe(201);
    expect(task).toMatchObject({ title: 'Learn Dapr building blocks', description: null, priority: 2, status: 'pending', assignee: null, version: 1 });
    expect(task.task_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('etag')).toBe(etag(task, 1));
    expect(res.headers.get('location')).toBe(`/tasks/${task.task_id}`);
  });

  it('reads with an ETag and answers 304 to a matching If-None-Match', async () => {
    const { task } = await createTask({ title: 'Read me' });
    const read = await h.fetch(`/tasks/${task.task_id}`);
    expect(read.headers.get('etag')).toBe(etag(task, 1));
    expect(((await read.json()) as { priority: number }).priority).toBe(1);
    const cached = await h.fetch(`/tasks/${task.task_id}`, { headers: { 'if-none-match': etag(task, 1) } });
    expect(cached.status).toBe(304);
    expect((await h.fetch(`/tasks/${task.task_id}`, { headers: { 'if-none-match': etag(task, 7) } })).status).toBe(200);
  });

  it('updates the status conditionally: 200 with the current ETag, 412 with a stale one, 409 when not allowed', async () => {
    const { task } = await createTask();
    const id = task.task_id as string;
    // The seed's own call: status in the query string, no If-Match (unconditional).
    const seedStyle = await put(id, { query: 'status=completed' });
    expect(seedStyle.status).toBe(200);
    expect(seedStyle.headers.get('etag')).toBe(etag(task, 2));

    const stale = await put(id, { body: { status: 'completed' }, ifMatch: etag(task, 1) });
    expect(stale.status).toBe(412);
    expect(((await stale.json()) as { detail: string }).detail).toBe(`Precondition failed: Task ${id} is at version 2, not 1`);

    const refused = await put(id, { body: { status: 'pending' }, ifMatch: etag(task, 2) });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toEqual({ detail: `Cannot change the status to pending: task ${id} is completed` });
  });

  it('names the bad part of an update', async () => {
    const { task } = await createTask();
    const id = task.task_id as string;
    const cases: [Parameters<typeof put>[1], string][] = [
      [{}, 'status'],
      [{ body: { status: 'overdue' } }, 'status'],
      [{ query: 'status=done' }, 'status'],
      [{ query: 'status=completed', body: { status: 'pending' } }, 'status'],
      [{ body: { status: 'completed' }, ifMatch: 'version-1' }, 'if-match'],
    ];
    for (const [init, field] of cases) {
      const res = await put(id, init);
      expect(res.status, JSON.stringify(init)).toBe(422);
      expect(((await res.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain(field);
    }
    expect((await put(uniqueId('missing'), { body: { status: 'completed' } })).status).toBe(404);
  });

  it('deletes: 204, then 404 for reads, updates and a second delete, and a task.deleted event', async () => {
    const { task } = await createTask();
    const id = task.task_id as string;
    expect((await h.fetch(`/tasks/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await h.getJson(`/tasks/${id}`)).toEqual({ status: 404, body: { detail: 'Task not found' } });
    await eventually(async () => (await h.client.workflow.getHandle(`task-entity-${id}`).describe()).status.name, (s) => s === 'COMPLETED');
    expect((await h.fetch(`/tasks/${id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await put(id, { body: { status: 'completed' } })).status).toBe(404);
    const events = (await streamEvents<{ task_id: string }>(h.redis, h.config.REDIS_KEY_PREFIX, TOPICS.tasks)).filter((e) => e.data.task_id === id);
    expect(events.map((e) => e.type)).toEqual(['task.created', 'task.deleted']);
    // The deletion is timed when it happened, not when the task last changed.
    expect(Date.parse(events[1]!.time)).toBeGreaterThan(Date.parse(events[0]!.time));
    expect((await h.fetch(`/tasks/${uniqueId('never')}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('gives a task deleted and created again other ETags: an old one no longer matches', async () => {
    const taskId = uniqueId('incarnation');
    const first = (await h.postJson('/tasks/process', seedTask(taskId))).status;
    expect(first).toBe(200);
    await eventually(() => h.getJson(`/workflows/task-workflow-${taskId}`), (r) => r.body.status === 'COMPLETED');
    const before = await h.fetch(`/tasks/${taskId}`);
    const oldTag = before.headers.get('etag')!;
    expect((await h.fetch(`/tasks/${taskId}`, { method: 'DELETE', headers: { 'if-match': oldTag } })).status).toBe(204);
    // Created again, up to the same version as before.
    await eventually(
      async () => (await h.postJson('/tasks/process', seedTask(taskId))).status,
      (status) => status === 200,
    );
    await eventually(() => h.getJson(`/tasks/${taskId}`), (r) => r.body.version === 3);
    const now = await h.fetch(`/tasks/${taskId}`);
    expect(now.headers.get('etag')).not.toBe(oldTag);
    expect((await h.fetch(`/tasks/${taskId}`, { headers: { 'if-none-match': oldTag } })).status).toBe(200);
    const stale = await put(taskId, { body: { status: 'completed' }, ifMatch: oldTag });
    expect(stale.status).toBe(412);
    expect((await h.fetch(`/tasks/${taskId}`, { method: 'DELETE', headers: { 'if-match': oldTag } })).status).toBe(412);
    // An ETag of the form before incarnations ("3") is no current one either.
    expect((await put(taskId, { body: { status: 'completed' }, ifMatch: '"3"' })).status).toBe(412);
    expect((await put(taskId, { body: { status: 'in_progress' }, ifMatch: now.headers.get('etag')! })).status).toBe(200);
  });

  it('lets exactly one of 100 concurrent conditional updates win per version', async () => {
    const { task } = await createTask();
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => put(task.task_id as string, { body: { status: 'completed' }, ifMatch: etag(task, 1) }).then((r) => r.status)),
    );
    expect(answers.filter((s) => s === 200)).toHaveLength(1);
    expect(answers.filter((s) => s === 412)).toHaveLength(99);
    expect((await h.getJson(`/tasks/${task.task_id}`)).body).toMatchObject({ status: 'completed', version: 2 });
  });
});

describe('listing tasks', () => {
  it('filters by assignee and status and pages through the results', async () => {
    const assignee = `${uniqueId('lister')}@example.com`;
    const ids = [uniqueId('list-a'), uniqueId('list-b'), uniqueId('list-c')];
    for (const id of ids) await h.postJson('/tasks/process', seedTask(id, { assignee }));
    const query = `/tasks?assignee=${encodeURIComponent(assignee)}&status=assigned`;
    const all = await eventually(
      () => h.getJson(`${query}&page_size=100`),
      (r) => (r.body.tasks as unknown[]).length === 3,
      { timeoutMs: 30_000 },
    );
    expect(all.body.tasks).toEqual(
      expect.arrayContaining(ids.map((id) => ({ task_id: id, status: 'assigned', assignee, workflow_id: `task-entity-${id}` }))),
    );

    const first = await h.getJson(`${query}&page_size=2`);
    expect(first.body.tasks).toHaveLength(2);
    expect(typeof first.body.next_page_token).toBe('string');
    const second = await h.getJson(`${query}&page_size=2&page_token=${first.body.next_page_token}`);
    const seen = [...(first.body.tasks as { task_id: string }[]), ...(second.body.tasks as { task_id: string }[])].map((t) => t.task_id);
    expect(new Set(seen)).toEqual(new Set(ids));

    expect((await h.getJson(`/tasks?assignee=${encodeURIComponent(assignee)}&status=completed`)).body).toEqual({ tasks: [], next_page_token: null });
    // A token belongs to its filters.
    const otherFilters = await h.getJson(`/tasks?assignee=${encodeURIComponent(assignee)}&page_size=2&page_token=${first.body.next_page_token}`);
    expect(otherFilters.status).toBe(422);
  });

  it.each([
    ['status=done', 'status'],
    ['page_size=0', 'page_size'],
    ['page_size=1000', 'page_size'],
    ['page_size=two', 'page_size'],
    ['assignee=', 'assignee'],
    ['page_token=not%20a%20token', 'page_token'],
    ['page_token=AAAA', 'page_token'],
    [`page_token=${Buffer.from(JSON.stringify({ t: 'AAAA', c: 'forged' })).toString('base64url')}`, 'page_token'],
  ])('refuses ?%s naming %s', async (query, field) => {
    const res = await h.getJson(`/tasks?${query}`);
    expect(res.status).toBe(422);
    expect((res.body.errors as { field: string }[]).map((e) => e.field)).toContain(field);
  });
});

describe('task history (GET /tasks/{task_id}/history)', () => {
  it('lists what changed, when and by whom, newest first; 404 for no task', async () => {
    const taskId = uniqueId('history');
    await h.postJson('/tasks/process', seedTask(taskId, { assignee: 'alice@example.com' }));
    await eventually(() => h.getJson(`/tasks/${taskId}`), (r) => r.status === 200 && r.body.status === 'assigned');
    expect((await put(taskId, { body: { status: 'in_progress' } })).status).toBe(200);
    const { status, body } = await h.getJson(`/tasks/${taskId}/history`);
    expect(status).toBe(200);
    const changes = body.changes as { version: number; kind: string; by: string | null; at: string | null; changes: { field: string; from: unknown; to: unknown }[]; reverted: boolean }[];
    expect(changes.map((c) => c.version)).toEqual([...changes.map((c) => c.version)].sort((a, b) => b - a));
    expect(changes[0]).toMatchObject({ kind: 'changed', by: 'api', reverted: false, changes: [{ field: 'status', from: 'assigned', to: 'in_progress' }] });
    expect(changes.at(-1)).toMatchObject({ kind: 'created' });
    expect(changes.flatMap((c) => c.changes.map((f) => f.field))).toContain('assignee');
    for (const change of changes) expect(change.at).toMatch(/^\d{4}-\d\d-\d\dT/);

    expect((await h.getJson(`/tasks/${uniqueId('nothing')}/history`)).status).toBe(404);
  });
});
