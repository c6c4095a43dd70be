/**
 * Retried activities never apply a mutation twice, and concurrent callers never lose one.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTaskEntityActivities } from '../activities/task-entity';
import { TaskEntityClient } from '../clients/task-entity';
import type { Task } from '../common/schemas';
import { assignTaskUpdate } from '../entities/task/messages';
import { createEntity, entity, readTask, taskClient } from './helpers/entity';
import { Harness, uniqueId } from './helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start({ api: false });
});
afterAll(() => h?.close());

/** Runs an activity as attempt N of one activity call of one workflow run. */
const activityCall = (activityId: string, attempt: number) => ({
  run: <A>(fn: (input: A) => Promise<Task>, input: A): Promise<Task> =>
    new MockActivityEnvironment({
      workflowExecution: { workflowId: 'task-workflow-retry-probe', runId: 'run-1' },
      activityId,
      attempt,
    }).run(fn, input) as Promise<Task>,
});

describe('idempotent activities', () => {
  it('applies a retried create or assign once, and a new call again', async () => {
    const taskId = uniqueId('retry');
    const activities = createTaskEntityActivities({ tasks: new TaskEntityClient(h.client, h.config.TASK_QUEUE) });
    const create = { task_id: taskId, title: 'Review PR #42', description: 'Review the authentication refactoring pull request' };

    expect((await activityCall('2', 1).run(activities.createTask, create)).version).toBe(1);
    expect((await activityCall('2', 2).run(activities.createTask, create)).version).toBe(1);

    expect((await activityCall('3', 1).run(activities.assignTask, { task_id: taskId, assignee: 'alice' })).version).toBe(2);
    // The retry (same call, attempt 2) finds the mutation applied and returns the state as it is.
    expect((await activityCall('3', 2).run(activities.assignTask, { task_id: taskId, assignee: 'alice' })).version).toBe(2);
    // A different call is a different mutation.
    expect((await activityCall('4', 1).run(activities.assignTask, { task_id: taskId, assignee: 'bob' })).version).toBe(3);
    expect(await readTask(h, taskId)).toMatchObject({ assignee: 'bob', version: 3 });
  });

  it('remembers applied update ids across continue-as-new', async () => {
    const taskId = uniqueId('retry-can');
    await createEntity(h, taskId, { history_limit: 20 });
    const updateId = 'task-workflow-x/run-1/3';
    const tasks = taskClient(h);
    await tasks.assign(taskId, 'alice', { updateId });
    const firstRun = (await entity(h, taskId).describe()).runId;
    for (let i = 0; i < 8; i++) await tasks.setDeadline(taskId, 600 + i);
    expect((await entity(h, taskId).describe()).runId).not.toBe(firstRun);
    const before = await readTask(h, taskId);
    const again = await tasks.assign(taskId, 'alice', { updateId });
    expect(again.version).toBe(before.version);
  });

  it('serialises concurrent mutations: none is lost', async () => {
    const taskId = uniqueId('race');
    await createEntity(h, taskId);
    const n = 30;
    await Promise.all(
      Array.from({ length: n }, (_, i) => entity(h, taskId).executeUpdate(assignTaskUpdate, { args: [{ assignee: `user-${i}` }] })),
    );
    expect((await readTask(h, taskId)).version).toBe(1 + n);
  });
});
