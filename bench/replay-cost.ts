/**
 * What replaying an evicted entity costs the worker: records one task entity as the scale scenario makes it
 * (created, a deadline set, the deadline fired) and one bare timer entity (bench/baseline-workflows.ts) on a
 * private dev server, then replays each history many times in one replay worker per bundle and prints the
 * milliseconds per replay. `npx tsx bench/replay-cost.ts [replays] [--no-preload] [--events]`: the second bundles the
 * workflows without WORKFLOW_PRELOAD_MODULES, as before they were shared, for the comparison; the third prints
 * each history's event types. Evidence for bench/README.md, "Deadlines", "Workflow modules evaluated once" and
 * "Less for the server per task".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promiseHooks } from 'node:v8';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { TaskEntityClient } from '../clients/task-entity';
import { loadConfig } from '../common/config';
import { getTaskQuery } from '../entities/task/messages';
import { findTemporalCli } from '../scripts/go-tools';
import { freePort, startDevServer } from '../scripts/dev-server';
import { createWorker, WORKFLOW_BUNDLE_OPTIONS, workflowSpanSinks } from '../worker/create-worker';
import { taskEntityWorkflowId } from '../workflows/shared/ids';
import { BareTimerEntityWorkflow, firedAtQuery, setDueUpdate } from './baseline-workflows';

/** An event's type as its attributes' field names it: workflowTaskCompletedEventAttributes is WorkflowTaskCompleted. */
const eventTypeName = (event: object) => {
  const field = Object.keys(event).find((key) => key.endsWith('EventAttributes') && (event as Record<string, unknown>)[key] != null) ?? '?';
  return field.replace(/EventAttributes$/, '').replace(/^./, (c) => c.toUpperCase());
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: console.error };

/**
 * Promises made in this thread, where the replays run: the SDK takes a stack trace for each one a workflow
 * makes (its promise hook), a large share of a replay's time.
 */
let promisesMade = 0;
promiseHooks.createHook({ init: () => void promisesMade++ });

async function replayTimes(codePath: { code: string }, history: unknown, workflowId: string, replays: number) {
  const many = Array.from({ length: replays }, (_, i) => ({ workflowId: `${workflowId}-${i}`, history }));
  // One warm-up pass, then the timed one.
  for await (const r of Worker.runReplayHistories({ workflowBundle: codePath, sinks: workflowSpanSinks() }, many.slice(0, 20))) if (r.error) throw r.error;
  const started = performance.now();
  const before = promisesMade;
  for await (const r of Worker.runReplayHistories({ workflowBundle: codePath, sinks: workflowSpanSinks() }, many)) if (r.error) throw r.error;
  return { ms: (performance.now() - started) / replays, promises: Math.round((promisesMade - before) / replays) };
}

async function main() {
  const replays = Number(process.argv.slice(2).find((arg) => /^\d+$/.test(arg)) ?? 300);
  const preload = !process.argv.includes('--no-preload');
  const dir = mkdtempSync(join(tmpdir(), 'replay-cost-'));
  const server = await startDevServer({ cli: await findTemporalCli(), dbFile: join(dir, 'temporal.db'), port: await freePort() });
  const config = loadConfig({ TEMPORAL_ADDRESS: server.address, TASK_QUEUE: 'replay-cost', REDIS_KEY_PREFIX: 'replay-cost:', NOTIFY_VIA: 'activity' });
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const redis = new Redis(config.REDIS_URL);
  // The worker's own bundle, its workflow interceptors (tracing, passing calls through when untraced) included.
  const ours = await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, ...(preload ? {} : { preloadModules: [] }), logger: quiet });
  const bare = await bundleWorkflowCode({ workflowsPath: resolve(__dirname, 'baseline-workflows.ts'), logger: quiet });
  const { worker, connection } = await createWorker({ config, client, redis, workflowBundle: ours });
  const bareWorker = await Worker.create({ connection, taskQueue: 'replay-cost-bare', workflowBundle: bare });
  try {
    const histories = await worker.runUntil(() =>
      bareWorker.runUntil(async () => {
        const tasks = new TaskEntityClient(client, config.TASK_QUEUE);
        await tasks.create('replayed', { title: 'Scale 1', description: 'One of many open tasks', priority: 2 });
        await tasks.setDeadline('replayed', 1);
        const entity = client.workflow.getHandle(taskEntityWorkflowId('replayed'));
        while ((await entity.query(getTaskQuery))?.status !== 'overdue') await sleep(100);
        await sleep(500);
        const timer = await client.workflow.start(BareTimerEntityWorkflow, { workflowId: 'bare-replayed', taskQueue: 'replay-cost-bare' });
        await timer.executeUpdate(setDueUpdate, { args: [Date.now() + 1_000] });
        while ((await timer.query(firedAtQuery)) === null) await sleep(100);
        return { ours: await entity.fetchHistory(), bare: await timer.fetchHistory() };
      }),
    );
    const size = (h: unknown) => JSON.stringify(h).length;
    const line = (name: string, h: typeof histories.ours, whole: { ms: number; promises: number }, start: { ms: number; promises: number }) =>
      console.log(
        `${name}: ${h.events?.length} events, ${size(h)} bytes; per replay ${whole.ms.toFixed(2)} ms and ${whole.promises} promises; ` +
          `up to its first workflow task ${start.ms.toFixed(2)} ms and ${start.promises} promises`,
      );
    // Each history whole, then cut after its first workflow task started: what creating the workflow costs.
    const firstTask = (h: typeof histories.ours) => ({ events: h.events!.slice(0, 3) });
    const oursWhole = await replayTimes(ours, histories.ours, 'task-entity', replays);
    const bareWhole = await replayTimes(bare, histories.bare, 'bare-timer', replays);
    const oursStart = await replayTimes(ours, firstTask(histories.ours), 'task-entity-start', replays);
    const bareStart = await replayTimes(bare, firstTask(histories.bare), 'bare-timer-start', replays);
    if (process.argv.includes('--events')) {
      for (const [name, h] of Object.entries(histories)) console.log(`${name}: ${h.events!.map(eventTypeName).join(' ')}`);
    }
    line('task entity', histories.ours, oursWhole, oursStart);
    line('bare timer entity', histories.bare, bareWhole, bareStart);
    console.log(`ratio per replay ${(oursWhole.ms / bareWhole.ms).toFixed(2)}, promises ${(oursWhole.promises / bareWhole.promises).toFixed(2)}`);
  } finally {
    await connection.close();
    await client.connection.close();
    redis.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
