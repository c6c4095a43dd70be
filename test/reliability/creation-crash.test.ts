/**
 * A new task's events go out within the workflow task that starts its entity, before that task is recorded
 * (entities/task/workflow.ts applyStartingUpdate). Here the worker dies right there, with the update's caller gone
 * too (as when the hand-over activity runs in that worker): the task is still made once, in the same run, and each
 * of its events is on the stream once, describing the task as recorded.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { entity, taskClient } from '../helpers/entity';
import { Harness, uniqueId } from '../helpers/harness';
import { exitOf, harnessEnv, startServiceProcess } from '../helpers/processes';
import { taskEventsOf } from '../helpers/streams';

let h: Harness;
const children: ChildProcess[] = [];
beforeAll(async () => {
  h = await Harness.start({ worker: false, api: false });
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(children.map(exitOf));
  await h?.close();
});

/** Resolves when the child prints `line` on its stdout. */
const printed = (child: ChildProcess, line: string) =>
  new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => l === line && resolve());
    child.once('exit', () => reject(new Error(`the worker exited before printing ${line}`)));
  });

describe('the worker dies after a new task’s events went out at once, before its workflow task is recorded', () => {
  it('makes the task once, in the same run, and publishes each of its events once', { timeout: 120_000 }, async () => {
    const env = { ...harnessEnv(h), WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath') };
    const dying = startServiceProcess('test/helpers/worker-dying-after-publish.ts', env, { stdout: 'pipe' });
    children.push(dying);

    const taskId = uniqueId('created-then-crash');
    const run = uniqueId('caller');
    const handOver = {
      title: 'Survives its worker',
      description: 'Created while its worker dies',
      assignee: 'alice@example.com',
      deadline_seconds: 3600,
      create_update_id: `${run}/create`,
      assign_update_id: `${run}/assign`,
      deadline_update_id: `${run}/deadline`,
    };
    const tasks = taskClient(h);
    // The caller goes with the worker: nothing sends this update again until the caller's own retry below.
    const caller = new AbortController();
    const first = tasks.handOver(taskId, handOver, { updateId: `${run}/hand-over`, signal: caller.signal }).catch((err: unknown) => err);
    await printed(dying, 'published');
    const { runId } = await entity(h, taskId).describe();
    caller.abort();
    dying.kill('SIGKILL');
    await exitOf(dying);
    await first;
    const published = await taskEventsOf(h.redis, h.config.REDIS_KEY_PREFIX, taskId);
    expect(published.map((e) => e.type)).toEqual(['task.created', 'task.assigned']);

    // A worker that lives, and the caller's retry (the hand-over activity's next attempt): same update ids.
    children.push(startServiceProcess('worker/main.ts', env));
    const { task } = await tasks.handOver(taskId, handOver, { updateId: `${run}/hand-over` });
    expect(task).toMatchObject({ status: 'assigned', assignee: 'alice@example.com', version: 3 });
    expect((await entity(h, taskId).describe()).runId).toBe(runId);

    // The retried workflow task published the same events again, under the same ids; the stream kept the first.
    const events = await taskEventsOf(h.redis, h.config.REDIS_KEY_PREFIX, taskId);
    expect(events.map((e) => e.type)).toEqual(['task.created', 'task.assigned']);
    // Timed at the run's start in every attempt (not at the retried task's, ten seconds on): what went out first
    // is the task as recorded.
    for (const event of events) expect(event.data).toMatchObject({ task: { created_at: task.created_at, updated_at: task.updated_at } });
  });
});
