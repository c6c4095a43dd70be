/**
 * 4. Scale: many open task entities created through the API; worker memory; a query on a cached versus an
 * evicted entity; and many deadlines falling due in the same second.
 */
import { taskEntityWorkflowId } from '../../common/ids';
import type { Task } from '../../common/schemas';
import { getTaskQuery, setDeadlineUpdate } from '../../entities/task/messages';
import { createTask } from '../api';
import { goal, type BenchContext, type ScenarioResult } from '../context';
import { readProcess, Usage } from '../processes';
import { closedLoop, latency, round } from '../stats';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function scale(ctx: BenchContext, maxCachedWorkflows: number): Promise<ScenarioResult> {
  const entities = ctx.quick ? 300 : 10_000;
  const deadlines = ctx.quick ? 100 : 1_000;
  const worker = ctx.processes.find((p) => p.name === 'worker')!;
  const usage = new Usage(ctx.processes);
  const started = performance.now();

  // Creation through the API, 50 clients at once (the seed's "10,000 tasks across 100 users").
  const ids: string[] = new Array(entities);
  const created = await closedLoop(entities, 50, async (i) => (ids[i] = await createTask(ctx.apiUrl, { title: `Scale ${i}`, description: 'One of many open tasks', priority: (i % 5) + 1 })));
  const creationRate = entities / (created.wallMs / 1000);
  ctx.log(`scale: ${entities} entities in ${round(created.wallMs / 1000, 1)} s (${round(creationRate, 1)}/s)`);
  await sleep(2_000);
  const workerAfterCreate = readProcess(worker.child.pid!);

  // Cached: the newest entities, just touched. Evicted: the oldest, pushed out of the worker's cache by
  // everything created after them (when there are more entities than cache slots).
  const sample = Math.min(200, Math.floor(entities / 4));
  const query = (id: string) => ctx.client.workflow.getHandle(taskEntityWorkflowId(id)).query(getTaskQuery);
  const newest = ids.slice(-sample);
  for (const id of newest) await query(id);
  const cachedSamples: number[] = [];
  for (const id of newest) {
    const t0 = performance.now();
    await query(id);
    cachedSamples.push(performance.now() - t0);
  }
  const evictedSamples: number[] = [];
  const evictable = entities > maxCachedWorkflows + sample;
  for (const id of ids.slice(0, sample)) {
    const t0 = performance.now();
    await query(id);
    evictedSamples.push(performance.now() - t0);
  }
  const cached = latency(cachedSamples);
  const evicted = latency(evictedSamples);
  ctx.log(`scale: query p50 cached ${cached.p50} ms, evicted ${evicted.p50} ms (eviction ${evictable ? 'certain' : 'not forced: fewer entities than cache slots'})`);

  // Deadlines: one per task, each due within the same second T (deadline_seconds are whole seconds, so
  // each is chosen from the moment it is sent). Lag = when the entity marked it overdue - its deadline.
  const targets = ids.slice(entities - deadlines);
  // Far enough ahead that every update is applied before it: twice what sending them should take at the
  // rate entities were created (setting a deadline on an evicted entity costs a replay first).
  const leadMs = Math.max(ctx.quick ? 8_000 : 25_000, (2 * deadlines * 1000) / creationRate);
  const dueAt = Math.ceil((Date.now() + leadMs) / 1000) * 1000;
  await closedLoop(targets.length, 50, (i) =>
    ctx.client.workflow
      .getHandle(taskEntityWorkflowId(targets[i]!))
      .executeUpdate(setDeadlineUpdate, { args: [{ deadline_seconds: Math.max(1, Math.round((dueAt - Date.now()) / 1000)) }] }),
  );
  const sentBy = Date.now();
  await sleep(Math.max(0, dueAt - Date.now()) + 1_000);
  let tasks: (Task | null)[] = [];
  for (let i = 0; i < 60; i++) {
    const read: (Task | null)[] = new Array(targets.length);
    await closedLoop(targets.length, 50, async (j) => (read[j] = await query(targets[j]!)));
    tasks = read;
    if (tasks.every((t) => t?.status === 'overdue')) break;
    await sleep(1_000);
  }
  const overdue = tasks.filter((t): t is Task => t?.status === 'overdue');
  const lags = overdue.map((t) => Date.parse(t.updated_at) - Date.parse(t.deadline!));
  const dueSpread = overdue.length ? Math.max(...overdue.map((t) => Date.parse(t.deadline!))) - Math.min(...overdue.map((t) => Date.parse(t.deadline!))) : 0;
  const lag = latency(lags);
  ctx.log(`scale: ${overdue.length}/${deadlines} overdue; lag p50 ${lag.p50} ms p99 ${lag.p99} ms (deadlines spread over ${dueSpread} ms, all sent ${dueAt - sentBy} ms before due)`);
  const workerEnd = readProcess(worker.child.pid!);

  return {
    name: 'scale',
    title: `${entities.toLocaleString('en')} open task entities`,
    figures: {
      entities,
      creationSeconds: round(created.wallMs / 1000, 1),
      creationPerSecond: round(creationRate, 1),
      createLatency: latency(created.latenciesMs),
      maxCachedWorkflows,
      workerRssMiBAfterCreate: Math.round(workerAfterCreate.rssMiB),
      workerPeakRssMiB: Math.round(workerEnd.peakRssMiB),
      cachedQuery: cached,
      evictedQuery: evicted,
      evictionForced: evictable,
      evictedToCachedP50: round(evicted.p50 / cached.p50),
      deadlines,
      overdue: overdue.length,
      deadlineSpreadMs: dueSpread,
      deadlineLeadMs: Math.round(leadMs),
      deadlinesSentBeforeDueMs: dueAt - sentBy,
      overdueLag: lag,
    },
    goals: [
      goal('worker peak RSS', workerEnd.peakRssMiB, 1536, 'atMost', 'MiB'),
      goal('evicted / cached query p50', evicted.p50 / cached.p50, 2, 'atMost'),
      goal('all deadlines marked overdue', overdue.length, deadlines, 'atLeast'),
      goal('overdue lag p99', lag.p99, 2_000, 'atMost', 'ms'),
    ],
    usage: usage.finish((performance.now() - started) / 1000),
  };
}
