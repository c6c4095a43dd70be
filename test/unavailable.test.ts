/**
 * When Temporal cannot answer (no worker for the entity, lately or for a while, or no server), reads answer
 * 503 with Retry-After, never 500 and never hang.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, eventually, seedTask, uniqueId } from './helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
});
afterAll(() => h?.close());

/**
 * A processed task whose worker then stops; after `idleMs` with no worker, a read answers 503 with Retry-After
 * within seconds, and 200 again once a worker is back.
 */
async function readWithoutWorker(taskId: string, idleMs: number): Promise<void> {
  await h.postJson('/tasks/process', seedTask(taskId));
  await eventually(() => h.getJson(`/workflows/task-workflow-${taskId}`), (r) => r.body.status === 'COMPLETED');
  await h.stopWorker();
  await new Promise((r) => setTimeout(r, idleMs));
  const started = Date.now();
  const res = await h.fetch(`/tasks/${taskId}`);
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('5');
  expect(await res.json()).toEqual({ detail: 'Temporal is unavailable; try again shortly' });
  expect(Date.now() - started).toBeLessThan(10_000);
  await h.startWorker();
  expect((await h.getJson(`/tasks/${taskId}`)).status).toBe(200);
}

describe('unavailable', () => {
  it('answers 503 for a task read while no worker runs, and 200 again once one does', { timeout: 30_000 }, async () => {
    await readWithoutWorker(uniqueId('no-worker'), 0);
  });

  // Once no worker has polled an entity's task queue for 20 s (the server's queryPollerUnavailableWindow), the
  // server refuses a query a second before its deadline: FAILED_PRECONDITION, "no poller seen for task queue
  // recently". That was answered 500, as a bug, to every page that read such a task.
  it('answers 503 for a read of an entity whose task queue no worker has polled lately', { timeout: 60_000 }, async () => {
    await readWithoutWorker(uniqueId('no-poller'), 21_000);
  });
});
