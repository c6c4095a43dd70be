/**
 * Durability: entities and runs survive their worker going away (stopped, or killed with SIGKILL),
 * and the Temporal server restarting on its persisted database.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../scripts/dev-server';
import { startTestTemporal } from './helpers/temporal';
import { Harness, eventually, seedTask, uniqueId } from './helpers/harness';
import { harnessEnv, startServiceProcess } from './helpers/processes';

const harnesses: Harness[] = [];
afterAll(async () => {
  await Promise.all(harnesses.map((h) => h.close()));
});
async function harness(...args: Parameters<typeof Harness.start>) {
  const h = await Harness.start(...args);
  harnesses.push(h);
  return h;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('worker restart', () => {
  it('keeps the entity and fires a deadline that fell due while no worker ran', async () => {
    const h = await harness();
    const taskId = uniqueId('restart');
    await h.postJson('/tasks/process', seedTask(taskId, { deadline_seconds: 2 }));
    await eventually(() => h.getJson(`/workflows/task-workflow-${taskId}`), (r) => r.body.status === 'COMPLETED');

    await h.stopWorker();
    await sleep(2_500); // the deadline passes with no worker
    await h.startWorker();

    const task = await eventually(() => h.getJson(`/tasks/${taskId}`), (r) => r.body.status === 'overdue');
    expect(task.body).toMatchObject({ title: 'Review PR #42', assignee: 'alice@example.com' });
  });
});

describe('worker killed with SIGKILL mid-run (the seed pod-restart test)', () => {
  let webhookHits = 0;
  let held: ServerResponse | undefined;
  let gotFirstCall: () => void;
  const firstCall = new Promise<void>((r) => (gotFirstCall = r));
  // The first notification never gets an answer: the worker dies while it waits. Later ones succeed.
  const webhook = createServer((req, res) => {
    req.resume();
    webhookHits += 1;
    if (webhookHits === 1) {
      held = res;
      gotFirstCall();
    } else res.writeHead(200).end();
  });
  const workers: ChildProcess[] = [];
  afterAll(() => {
    for (const w of workers) w.kill('SIGKILL');
    held?.destroy();
    webhook.close();
  });

  function startWorkerProcess(env: Record<string, string>): ChildProcess {
    const child = startServiceProcess('worker/main.ts', env);
    workers.push(child);
    return child;
  }

  it('completes on a new worker', { timeout: 90_000 }, async () => {
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    const webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/`;
    const h = await harness({ worker: false, env: { NOTIFY_WEBHOOK_URL: webhookUrl } });
    const env = { ...harnessEnv(h), NOTIFY_WEBHOOK_URL: webhookUrl, NOTIFY_TIMEOUT_MS: '60000' };
    const first = startWorkerProcess(env);
    const taskId = uniqueId('task-002');
    await h.postJson('/tasks/process', seedTask(taskId, { title: 'Long task', description: 'Testing recovery', assignee: 'bob@example.com', deadline_seconds: 300 }));

    // The run is inside its notify step, on the first worker (or the worker died on its own: fail now).
    await Promise.race([
      firstCall,
      new Promise((_, reject) => first.once('exit', (code) => reject(new Error(`worker exited early with code ${code}`)))),
    ]);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    startWorkerProcess(env);

    // The lost attempt's heartbeats stop (it may take NOTIFY_TIMEOUT_MS, 60 s here, but the heartbeat timeout
    // is 5 s) and the retry runs on the new worker.
    const done = await eventually(
      () => h.getJson(`/workflows/task-workflow-${taskId}`),
      (r) => r.body.status !== 'RUNNING',
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(done.body).toEqual({
      workflow_id: `task-workflow-${taskId}`,
      run_id: expect.any(String),
      status: 'COMPLETED',
      output: { task_id: taskId, status: 'completed', message: 'Task assigned to bob@example.com with deadline reminder' },
      ui_url: expect.stringContaining(`/workflows/task-workflow-${taskId}/`),
    });
    expect(webhookHits).toBe(2);
    expect((await h.getJson(`/tasks/${taskId}`)).body).toMatchObject({ status: 'assigned', assignee: 'bob@example.com' });
  });
});

describe('Temporal server restart on a persisted database', () => {
  it('keeps entities, and a deadline due while the server was down fires after it', { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'task-agent-restart-'));
    let server = await startTestTemporal({ stateDir: dir, port: await freePort() });
    try {
      const env = { TEMPORAL_ADDRESS: server.address, TASK_QUEUE: uniqueId('tq-restart') };
      let h = await Harness.start({ env });
      const taskId = uniqueId('persisted');
      await h.postJson('/tasks/process', seedTask(taskId, { deadline_seconds: 3 }));
      await eventually(() => h.getJson(`/workflows/task-workflow-${taskId}`), (r) => r.body.status === 'COMPLETED');
      await h.close();

      await server.stop();
      await sleep(3_000); // the deadline falls due while the server is down
      server = await startTestTemporal(server.options);

      h = await harness({ env });
      const task = await eventually(() => h.getJson(`/tasks/${taskId}`), (r) => r.body.status === 'overdue', { timeoutMs: 30_000 });
      expect(task.body).toMatchObject({ task_id: taskId, title: 'Review PR #42', assignee: 'alice@example.com' });
      await h.close();
      harnesses.pop();
    } finally {
      await server.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
