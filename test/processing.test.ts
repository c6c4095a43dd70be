/**
 * The seed's acceptance transcript through HTTP against the real dev server, worker and Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationsKey } from '../activities/notify';
import { TASK_ENTITY_V4_PATCH } from '../entities/task/workflow';
import { PROCESSING_V2_PATCH } from '../workflows/task-processing';
import { entity } from './helpers/entity';
import { Harness, eventually, seedTask, uniqueId } from './helpers/harness';
import { attributesUpserted, patchesAsked } from './helpers/history';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
});
afterAll(() => h?.close());

const workflowDone = (workflowId: string) =>
  eventually(
    () => h.getJson(`/workflows/${workflowId}`),
    (r) => r.body.status !== 'RUNNING',
  );

describe('TaskProcessingWorkflow through the API', () => {
  it('runs the seed Test 1 and 2: started, then the task is assigned with a deadline, then COMPLETED', async () => {
    const taskId = uniqueId('task-001');
    const started = await h.postJson('/tasks/process', seedTask(taskId));
    const workflowId = `task-workflow-${taskId}`;
    // The run it started, and that run's page in the Web UI (TEMPORAL_UI_URL's default: the dev server's UI).
    const runId = (await h.client.workflow.getHandle(workflowId).describe()).runId;
    const uiUrl = `http://localhost:8233/namespaces/default/workflows/${workflowId}/${runId}/history`;
    expect(started).toEqual({ status: 200, body: { workflow_id: workflowId, run_id: runId, status: 'started', ui_url: uiUrl } });

    const done = await workflowDone(workflowId);
    expect(done.body).toEqual({
      workflow_id: workflowId,
      run_id: runId,
      status: 'COMPLETED',
      output: { task_id: taskId, status: 'completed', message: 'Task assigned to alice@example.com with deadline reminder' },
      ui_url: uiUrl,
    });

    const task = await h.getJson(`/tasks/${taskId}`);
    expect(task.status).toBe(200);
    // Answers about one entity link to its workflow in the Web UI; the processing answer carries ui_url instead.
    const entityLink = `<http://localhost:8233/namespaces/default/workflows/task-entity-${taskId}>; rel="related"; title="Temporal Web UI"`;
    expect((await h.fetch(`/tasks/${taskId}`)).headers.get('link')).toBe(entityLink);
    const chat = await h.fetch(`/chat/${uniqueId('linked')}/history`);
    expect(chat.headers.get('link')).toMatch(/\/workflows\/chat-entity-linked-[^>]+>; rel="related"/);
    expect((await h.fetch(`/tasks/${uniqueId('missing')}`)).headers.get('link')).toBeNull();
    expect(task.body).toMatchObject({
      task_id: taskId,
      title: 'Review PR #42',
      description: 'Review the authentication refactoring pull request',
      status: 'assigned',
      assignee: 'alice@example.com',
    });
    const created = Date.parse(task.body.created_at as string);
    const deadline = Date.parse(task.body.deadline as string);
    expect(deadline - created).toBeGreaterThanOrEqual(59_000);
    expect(deadline - created).toBeLessThanOrEqual(61_000);

    // With no webhook configured, the notification is recorded in Redis, keyed by the processing run.
    const recorded = await h.redis.hget(notificationsKey(h.config.REDIS_KEY_PREFIX, 'alice@example.com'), `task-workflow-${taskId}`);
    expect(JSON.parse(recorded!)).toMatchObject({ task_id: taskId, assignee: 'alice@example.com', title: 'Review PR #42' });
  });

  it('asks one patch in the run and one in its new task entity, which writes only the attributes it moved (each is a visibility write)', async () => {
    const taskId = uniqueId('one-patch');
    await h.postJson('/tasks/process', seedTask(taskId));
    await workflowDone(`task-workflow-${taskId}`);
    expect(patchesAsked((await h.client.workflow.getHandle(`task-workflow-${taskId}`).fetchHistory()).events ?? [])).toEqual([PROCESSING_V2_PATCH]);
    const entityHistory = (await entity(h, taskId).fetchHistory()).events ?? [];
    expect(patchesAsked(entityHistory)).toEqual([TASK_ENTITY_V4_PATCH]);
    // The entity client starts it with its TaskId: the hand-over writes only what it moved.
    expect(attributesUpserted(entityHistory)).toEqual(['TaskAssignee,TaskStatus']);
  });

  it('accepts the seed Test 5 body sent by curl without a Content-Type, with deadline_seconds defaulting to 3600', async () => {
    const taskId = uniqueId('task-002');
    const body = `{"task_id": "${taskId}", "title": "Long task", "description": "Testing recovery", "assignee": "bob@example.com"}`;
    const started = await h.postJson('/tasks/process', body, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(started.status).toBe(200);
    const done = await workflowDone(`task-workflow-${taskId}`);
    expect(done.body.output).toEqual({ task_id: taskId, status: 'completed', message: 'Task assigned to bob@example.com with deadline reminder' });
    const task = await h.getJson(`/tasks/${taskId}`);
    expect(Date.parse(task.body.deadline as string) - Date.parse(task.body.created_at as string)).toBeGreaterThanOrEqual(3_599_000);
  });

  it('rejects a task whose title and description are too short, and creates nothing', async () => {
    const taskId = uniqueId('short');
    await h.postJson('/tasks/process', seedTask(taskId, { title: 'abc', description: 'too short' }));
    const done = await workflowDone(`task-workflow-${taskId}`);
    expect(done.body.output).toEqual({
      task_id: taskId,
      status: 'rejected',
      message: 'Validation failed: Title must be at least 5 characters; Description must be at least 10 characters',
    });
    expect(await h.getJson(`/tasks/${taskId}`)).toEqual({ status: 404, body: { detail: 'Task not found' } });
  });

  it('answers 409 for a second processing run while the first is open, and allows one after it closed', async () => {
    const taskId = uniqueId('dup');
    // No worker polls this harness's queue while the first run is started, so it stays open.
    await h.stopWorker();
    expect((await h.postJson('/tasks/process', seedTask(taskId))).status).toBe(200);
    const second = await h.postJson('/tasks/process', seedTask(taskId));
    expect(second.status).toBe(409);
    expect(second.body.detail).toBe(`Task ${taskId} is already being processed by workflow task-workflow-${taskId}`);

    await h.startWorker();
    expect((await workflowDone(`task-workflow-${taskId}`)).body.status).toBe('COMPLETED');
    // Processing the same task again reuses it (same title and description) and completes.
    expect((await h.postJson('/tasks/process', seedTask(taskId))).status).toBe(200);
    const again = await eventually(
      () => h.getJson(`/workflows/task-workflow-${taskId}`),
      (r) => r.body.status === 'COMPLETED' && r.body.output !== null,
    );
    expect((again.body.output as { status: string }).status).toBe('completed');
  });

  it('answers 404 for unknown tasks and workflows, and for workflows that are not processing runs', async () => {
    expect(await h.getJson(`/tasks/${uniqueId('missing')}`)).toEqual({ status: 404, body: { detail: 'Task not found' } });
    expect(await h.getJson(`/workflows/task-workflow-${uniqueId('missing')}`)).toEqual({
      status: 404,
      body: { detail: 'Workflow not found' },
    });
  });

  it('reports liveness and readiness', async () => {
    expect(await h.getJson('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await h.getJson('/readyz')).toEqual({ status: 200, body: { status: 'ready', checks: { temporal: 'ok', redis: 'ok' } } });
  });
});
