/**
 * The task entity's message interface, as the CLI and other services use it: updates answer with the
 * new state or a clear refusal; signals are fire-and-forget; a refused signal leaves the entity running.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignTaskSignal, assignTaskUpdate, updateStatusSignal, updateStatusUpdate } from '../entities/task/messages';
import { TASK_ENTITY_V4_PATCH } from '../entities/task/workflow';
import { taskEntityWorkflowId } from '../workflows/shared/ids';
import { TaskIdAttribute, TaskStatusAttribute } from '../workflows/shared/search-attributes';
import { createEntity, entity, readTask, taskClient } from './helpers/entity';
import { attributesUpserted, patchesAsked } from './helpers/history';
import { Harness, eventually, uniqueId } from './helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start({ api: false });
});
afterAll(() => h?.close());

async function refusal(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (err as WorkflowUpdateFailedError).cause as { message: string; type?: string; nonRetryable?: boolean };
  expect(cause.type).toBe('TaskRuleError');
  expect(cause.nonRetryable).toBe(true);
  return cause.message;
}

describe('task entity messages', () => {
  it('refuses impossible transitions and bad input with the reason', async () => {
    const taskId = uniqueId('rules');
    await createEntity(h, taskId);
    expect(await refusal(entity(h, taskId).executeUpdate(updateStatusUpdate, { args: [{ status: 'in_progress' }] }))).toBe(
      `Cannot change the status to in_progress: task ${taskId} has no assignee`,
    );
    expect(await refusal(entity(h, taskId).executeUpdate(updateStatusUpdate, { args: [{ status: 'overdue' as never }] }))).toMatch(
      /^Invalid input: status: /,
    );
    expect(await refusal(entity(h, taskId).executeUpdate(assignTaskUpdate, { args: [{} as never] }))).toMatch(/^Invalid input: assignee: /);

    await entity(h, taskId).executeUpdate(assignTaskUpdate, { args: [{ assignee: 'alice' }] });
    const done = await entity(h, taskId).executeUpdate(updateStatusUpdate, { args: [{ status: 'completed' }] });
    expect(done).toMatchObject({ status: 'completed', version: 3 });
    expect(await refusal(entity(h, taskId).executeUpdate(assignTaskUpdate, { args: [{ assignee: 'bob' }] }))).toBe(
      `Cannot assign: task ${taskId} is completed`,
    );
    // Refused updates leave no trace: the state is unchanged.
    expect(await readTask(h, taskId)).toMatchObject({ status: 'completed', assignee: 'alice', version: 3 });
  });

  it('ignores a starting update that is not one the entity client writes (a start by hand), and the update creates the task', async () => {
    const byHand = [null, 'createTask', { name: 'dropTask', update_id: 'by-hand' }, { name: 'createTask', update_id: 'by-hand', input: { title: '' } }];
    for (const starting_update of byHand) {
      const taskId = uniqueId('by-hand');
      expect(await createEntity(h, taskId, { starting_update: starting_update as never }), JSON.stringify(starting_update)).toMatchObject({
        task_id: taskId,
        status: 'pending',
        version: 1,
      });
      expect((await entity(h, taskId).describe()).status.name).toBe('RUNNING');
    }
  });

  it('applies signals, and a refused signal leaves the entity running', async () => {
    const taskId = uniqueId('signals');
    await createEntity(h, taskId);
    await entity(h, taskId).signal(updateStatusSignal, { status: 'in_progress' }); // refused: no assignee
    await entity(h, taskId).signal(assignTaskSignal, { assignee: 'bob' });
    const task = await eventually(() => readTask(h, taskId), (t) => t.assignee === 'bob');
    expect(task).toMatchObject({ status: 'assigned', version: 2 });
    expect((await entity(h, taskId).describe()).status.name).toBe('RUNNING');
  });
});

describe("what the task entity writes to its history (each marker and upsert is work for the server)", () => {
  it('asks one patch per run, and writes a search attribute only when its value changes, across continue-as-new and a new creation', async () => {
    const taskId = uniqueId('upserts');
    await createEntity(h, taskId, { history_limit: 50 });
    const firstRun = (await entity(h, taskId).describe()).runId;
    const tasks = taskClient(h);
    await tasks.setDeadline(taskId, 3600);
    await tasks.assign(taskId, 'alice@example.com');
    // New deadlines until the run reaches its history limit and continues as new.
    for (let seconds = 7200; (await entity(h, taskId).describe()).runId === firstRun; seconds += 60) {
      expect(seconds).toBeLessThan(7200 + 60 * 40);
      await tasks.setDeadline(taskId, seconds);
    }
    await tasks.updateStatus(taskId, { status: 'in_progress' });

    const first = (await h.client.workflow.getHandle(taskEntityWorkflowId(taskId), firstRun).fetchHistory()).events ?? [];
    expect(patchesAsked(first)).toEqual([TASK_ENTITY_V4_PATCH]);
    // The creation writes what it sets (no assignee yet); the deadlines write nothing; the assignment what it moved.
    expect(attributesUpserted(first)).toEqual(['TaskId,TaskStatus', 'TaskAssignee,TaskStatus']);

    const next = (await entity(h, taskId).fetchHistory()).events ?? [];
    expect(patchesAsked(next)).toEqual([TASK_ENTITY_V4_PATCH]);
    // The run continued as new keeps the attributes: it writes only the status that changed in it.
    expect(attributesUpserted(next)).toEqual(['TaskStatus']);
    expect((await entity(h, taskId).describe()).typedSearchAttributes.get(TaskStatusAttribute)).toBe('in_progress');

    // Deleted (its status and assignee are unset) and created again, as the API does it: the task is listed again.
    await tasks.delete(taskId);
    await tasks.create(taskId, { title: 'Created again', description: 'After its delete' });
    const again = await entity(h, taskId).describe();
    expect(again.typedSearchAttributes.get(TaskStatusAttribute)).toBe('pending');
    expect(again.typedSearchAttributes.get(TaskIdAttribute)).toBe(taskId);
  });
});
