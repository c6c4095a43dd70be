/**
 * Faults under load, with real processes: two workers where one is SIGKILLed (the survivor takes over
 * without anyone doing anything), and the Temporal server restarting in the middle of many runs.
 * Each case prints what it tried and what it found.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/dev-server';
import { startTestTemporal } from '../helpers/temporal';
import { TaskProcessingWorkflow } from '../../workflows/task-processing';
import { Harness, seedTask, uniqueId } from '../helpers/harness';
import { exitOf, harnessEnv, startServiceProcess } from '../helpers/processes';
import { startWebhook } from '../helpers/webhook';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

describe('faults under load', () => {
  it('two workers, one SIGKILLed with work in hand: the survivor finishes every run', { timeout: 120_000 }, async () => {
    const webhook = await startWebhook({ delayMs: 1_000 });
    const h = await Harness.start({ api: false, worker: false, env: { NOTIFY_WEBHOOK_URL: webhook.url } });
    try {
      const env = { ...harnessEnv(h), NOTIFY_WEBHOOK_URL: webhook.url };
      const [doomed, survivor] = [startServiceProcess('worker/main.ts', env), startServiceProcess('worker/main.ts', env)];
      children.push(doomed, survivor);
      const ids = Array.from({ length: 40 }, () => uniqueId('two-workers'));
      const handles = await Promise.all(
        ids.map((id) => h.client.workflow.start(TaskProcessingWorkflow, { workflowId: `task-workflow-${id}`, taskQueue: h.config.TASK_QUEUE, args: [seedTask(id)] })),
      );
      // Strike while notifications are under way and not finished.
      for (let i = 0; i < 600 && webhook.received < 5; i++) await new Promise((r) => setTimeout(r, 50));
      doomed.kill('SIGKILL');
      await exitOf(doomed);
      const killedAfter = webhook.tasks.size;
      expect(webhook.received).toBeGreaterThanOrEqual(5);
      expect(killedAfter).toBeLessThan(40);
      const results = await Promise.all(handles.map((handle) => handle.result()));
      console.log(`two workers: SIGKILL after ${killedAfter}/40 notified; ${results.filter((r) => r.status === 'completed').length}/40 completed; ${webhook.tasks.size} tasks notified`);
      expect(results.map((r) => r.status)).toEqual(ids.map(() => 'completed'));
      expect(webhook.tasks.size).toBe(40);
      expect(survivor.exitCode).toBeNull();
    } finally {
      await h.close();
      webhook.close();
    }
  });

  it('Temporal restarts in the middle of 30 runs and a chat: all runs complete, entities and history survive', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'task-agent-faults-'));
    let server = await startTestTemporal({ stateDir: dir, port: await freePort() });
    const webhook = await startWebhook({ delayMs: 1_500 });
    const env = { TEMPORAL_ADDRESS: server.address, TASK_QUEUE: uniqueId('tq-faults'), NOTIFY_WEBHOOK_URL: webhook.url };
    const h = await Harness.start({ env, worker: false });
    try {
      const worker = startServiceProcess('worker/main.ts', { ...harnessEnv(h), NOTIFY_WEBHOOK_URL: webhook.url });
      children.push(worker);
      const user = uniqueId('user-restart');
      for (let i = 1; i <= 3; i++) expect((await h.postJson(`/chat/${user}`, { content: `before ${i}` })).status).toBe(200);
      const ids = Array.from({ length: 30 }, () => uniqueId('restart-run'));
      for (const id of ids) expect((await h.postJson('/tasks/process', seedTask(id))).status).toBe(200);

      // Mid-flight: notifications under way, not finished.
      for (let i = 0; i < 600 && webhook.received < 3; i++) await new Promise((r) => setTimeout(r, 50));
      await server.stop();
      const notifiedAtStop = webhook.tasks.size;
      expect(webhook.received).toBeGreaterThanOrEqual(3);
      expect(notifiedAtStop).toBeLessThan(30);
      await new Promise((r) => setTimeout(r, 2_000));
      server = await startTestTemporal(server.options);

      const done = async () => {
        const statuses = await Promise.all(ids.map((id) => h.getJson(`/workflows/task-workflow-${id}`).then((r) => r.body.status)));
        return statuses.filter((s) => s === 'COMPLETED').length;
      };
      let completed = 0;
      for (let i = 0; i < 120 && completed < 30; i++) {
        completed = await done().catch(() => 0);
        if (completed < 30) await new Promise((r) => setTimeout(r, 500));
      }
      console.log(`server restart: stopped with ${notifiedAtStop}/30 notified; after restart ${completed}/30 completed`);
      expect(completed).toBe(30);
      for (const id of ids) expect((await h.getJson(`/tasks/${id}`)).body).toMatchObject({ status: 'assigned', assignee: 'alice@example.com' });
      const history = (await h.getJson(`/chat/${user}/history`)).body as { messages: { content: string }[] };
      expect(history.messages.filter((_, i) => i % 2 === 0).map((m) => m.content)).toEqual(['before 1', 'before 2', 'before 3']);
      expect((await h.postJson(`/chat/${user}`, { content: 'after' })).body.content).toBe("Understood. I'm tracking our conversation (message #4).");
    } finally {
      await h.close();
      webhook.close();
      await server.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
