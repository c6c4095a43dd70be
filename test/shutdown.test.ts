/**
 * Graceful shutdown of the real processes under load: SIGTERM to the API drains it (every request sent
 * while it was routable succeeds, none is reset), SIGTERM to the worker lets running activities finish and
 * no workflow is lost.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../scripts/dev-server';
import { SHUTDOWN_GRACE_SECONDS } from '../worker/create-worker';
import { TaskProcessingWorkflow } from '../workflows/task-processing';
import { Harness, seedTask, uniqueId } from './helpers/harness';
import { exitOf, harnessEnv, startServiceProcess } from './helpers/processes';

const children: ChildProcess[] = [];
const harnesses: Harness[] = [];
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(harnesses.map((h) => h.close()));
});

function startProcess(entry: 'worker/main.ts' | 'api/main.ts', env: Record<string, string>): ChildProcess {
  const child = startServiceProcess(entry, env);
  children.push(child);
  return child;
}

describe('SIGTERM', () => {
  it('drains the API under load: every request routed to it succeeds, none is reset', { timeout: 60_000 }, async () => {
    const h = await Harness.start({ api: false });
    harnesses.push(h);
    const port = await freePort();
    const api = startProcess('api/main.ts', {
      ...harnessEnv(h),
      PORT: String(port),
      SHUTDOWN_DRAIN_MS: '1500',
      EVENT_SUBSCRIBER: 'off',
    });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 200 && (await fetch(`${base}/readyz`).then((r) => r.status, () => 0)) !== 200; i++) await new Promise((r) => setTimeout(r, 100));

    const user = uniqueId('user-drain');
    const outcomes: string[] = [];
    let sigtermAt = 0;
    const okAfterSigterm: number[] = [];
    const servedPerClient = Array.from({ length: 8 }, () => 0);
    // The load balancer: checks /readyz every 100 ms and stops routing new requests once it fails, as
    // Kubernetes removes a terminating pod from its Service. The drain period covers that delay.
    let routable = true;
    let stop = false;
    const balancer = (async () => {
      while (routable && !stop) {
        const status = await fetch(`${base}/readyz`).then((r) => r.status, () => 0);
        if (status !== 200) routable = false;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const loop = async (n: number) => {
      while (routable && !stop) {
        try {
          const res = await fetch(`${base}/chat/${user}-${n}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ content: 'hello' }),
          });
          outcomes.push(String(res.status));
          if (res.ok) servedPerClient[n]!++;
          if (sigtermAt && res.ok) okAfterSigterm.push(Date.now() - sigtermAt);
        } catch (err) {
          outcomes.push(((err as Error).cause as { code?: string } | undefined)?.code ?? (err as Error).message);
        }
      }
    };
    const loops = Array.from({ length: 8 }, (_, n) => loop(n));
    await new Promise((r) => setTimeout(r, 1_500));
    sigtermAt = Date.now();
    api.kill('SIGTERM');
    const code = await exitOf(api);
    stop = true;
    await Promise.all([...loops, balancer]);

    expect(code).toBe(0);
    const failures = outcomes.filter((o) => o !== '200');
    expect(failures, `outcomes: ${[...new Set(outcomes)].join(', ')}`).toEqual([]);
    // All 8 clients were served (how many requests each got through depends on how busy the machine is).
    expect(servedPerClient.filter((served) => served > 0)).toHaveLength(8);
    expect(okAfterSigterm.length).toBeGreaterThan(0); // it kept serving while draining
  });

  it('stops the worker within its grace time, lets running activities finish, and loses no workflow', { timeout: 90_000 }, async () => {
    // A webhook that takes 1.5 s per notification, so SIGTERM finds activities running.
    let received = 0;
    let notified = 0;
    const webhook = createServer((req, res) => {
      req.resume();
      received++;
      setTimeout(() => {
        notified++;
        res.writeHead(200).end();
      }, 1_500);
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/`;
      const h = await Harness.start({ api: false, worker: false, env: { NOTIFY_WEBHOOK_URL: url } });
      harnesses.push(h);
      // The prebuilt bundle: a worker bundling at start took over 15 s on a loaded machine (CI saw it).
      const env = { ...harnessEnv(h), NOTIFY_WEBHOOK_URL: url, WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath') };
      const first = startProcess('worker/main.ts', env);
      const ids = Array.from({ length: 20 }, () => uniqueId('drain-task'));
      const runs = ids.map((id) =>
        h.client.workflow.start(TaskProcessingWorkflow, { workflowId: `task-workflow-${id}`, taskQueue: h.config.TASK_QUEUE, args: [seedTask(id)] }),
      );
      const handles = await Promise.all(runs);
      for (let i = 0; i < 1_200 && received === 0; i++) await new Promise((r) => setTimeout(r, 50));
      const sigtermAt = Date.now();
      first.kill('SIGTERM');
      expect(received, 'notifications were under way when SIGTERM came').toBeGreaterThan(0);
      expect(notified, 'and not finished').toBeLessThan(received);

      const code = await exitOf(first);
      expect(code).toBe(0);
      // Within the grace time, even when an activity waits on an entity update this worker no longer serves.
      expect(Date.now() - sigtermAt).toBeLessThan(SHUTDOWN_GRACE_SECONDS * 1000 + 5_000);
      startProcess('worker/main.ts', env);

      const results = await Promise.all(handles.map((handle) => handle.result()));
      expect(results.map((r) => r.status)).toEqual(ids.map(() => 'completed'));
      expect(notified).toBeGreaterThanOrEqual(20);
    } finally {
      webhook.close();
    }
  });
});
