/**
 * The deadline reminder as a durable timer inside the task entity.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignTaskUpdate, setDeadlineUpdate, updateStatusUpdate } from '../entities/task/messages';
import { createEntity, entity, readTask, taskClient } from './helpers/entity';
import { Harness, eventually, seedTask, uniqueId } from './helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
});
afterAll(() => h?.close());

describe('deadline timer', () => {
  it('marks a processed task overdue when its deadline passes (seed Test 4)', async () => {
    const taskId = uniqueId('task-001');
    await h.postJson('/tasks/process', seedTask(taskId, { deadline_seconds: 2 }));
    const assigned = await eventually(() => h.getJson(`/tasks/${taskId}`), (r) => r.body.status === 'assigned' && r.body.deadline !== null);
    const overdue = await eventually(() => h.getJson(`/tasks/${taskId}`), (r) => r.body.status === 'overdue', { timeoutMs: 15_000 });
    expect(overdue.body).toMatchObject({ task_id: taskId, title: 'Review PR #42', assignee: 'alice@example.com' });
    // It fired at the deadline, not before.
    expect(Date.parse(overdue.body.updated_at as string)).toBeGreaterThanOrEqual(Date.parse(assigned.body.deadline as string));
  });

  it('replaces the old timer when a new deadline is set', async () => {
    const taskId = uniqueId('later');
    await createEntity(h, taskId);
    await entity(h, taskId).executeUpdate(setDeadlineUpdate, { args: [{ deadline_seconds: 1 }] });
    await entity(h, taskId).executeUpdate(setDeadlineUpdate, { args: [{ deadline_seconds: 600 }] });
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await readTask(h, taskId)).status).toBe('pending');
  });

  it('never marks a completed task overdue', async () => {
    const taskId = uniqueId('done');
    await createEntity(h, taskId);
    await entity(h, taskId).executeUpdate(assignTaskUpdate, { args: [{ assignee: 'alice@example.com' }] });
    await entity(h, taskId).executeUpdate(setDeadlineUpdate, { args: [{ deadline_seconds: 1 }] });
    await entity(h, taskId).executeUpdate(updateStatusUpdate, { args: [{ status: 'completed' }] });
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await readTask(h, taskId)).status).toBe('completed');
  });

  it('carries state and the pending deadline across continue-as-new', async () => {
    const taskId = uniqueId('long');
    await createEntity(h, taskId, { history_limit: 30 });
    const firstRun = (await entity(h, taskId).describe()).runId;
    const { deadline } = await entity(h, taskId).executeUpdate(setDeadlineUpdate, { args: [{ deadline_seconds: 6 }] });
    // Through the entity's client, which sends again an update refused while the entity continues as new.
    for (let i = 0; i < 12; i++) await taskClient(h).assign(taskId, `user-${i}`);
    expect((await entity(h, taskId).describe()).runId).not.toBe(firstRun);
    const overdue = await eventually(() => readTask(h, taskId), (t) => t.status === 'overdue', { timeoutMs: 15_000 });
    // Every mutation and the deadline made it through the continue-as-new chain.
    expect(overdue).toMatchObject({ assignee: 'user-11', deadline, version: 15 });
    expect(Date.parse(overdue.updated_at)).toBeGreaterThanOrEqual(Date.parse(deadline!));
  });
});
