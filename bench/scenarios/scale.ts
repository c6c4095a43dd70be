/**
 * 4. Scale: many open task entities created through the API; worker memory; a query on a cached versus an
 * evicted entity; and many deadlines falling due in the same second.
 */
import { taskEntityWorkflowId } from '../../workflows/shared/ids';
import { getTaskQuery, setDeadlineUpdate } from '../../entities/task/messages';
import { createTask } from '../api';
import { BareTimerEntityWorkflow, firedAtQuery, setDueUpdate } from '../baseline-workflows';
import { goal, type BenchContext, type ScenarioResult } from '../context';
import { readProcess, Usage } from '../processes';
import { closedLoop, latency, round, sequential } from '../stats';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Query latency on the newest of `ids` (just touched: cached) and on the oldest (pushed out of the cache). */
async function cachedVersusEvicted(ids: string[], query: (id: string) => Promise<unknown>) {
  const sample = Math.min(200, Math.floor(ids.length / 4));
  const timed = (batch: string[]) => sequential(batch.length, (i) => query(batch[i]!));
  const newest = ids.slice(-sample);
  await timed(newest);
  const cached = await timed(newest);
  const evicted = await timed(ids.slice(0, sample));
  return { sample, cached, evicted, ratio: evicted.p50 / cached.p50 };
}

/** How many entities are read while deadlines are worked through (the rest once the sample has fired). */
const SAMPLE = 20;

/**
 * Deadlines on every one of `ids`, all due within the same second T; `set(id, dueAt)` sets one and
 * `firedLag(id, dueAt)` reads how late it fired (null while it has not). Far enough ahead that every update is
 * applied before T: twice what sending them should take at `ratePerSecond`.
 */
async function simultaneousDeadlines(
  ids: string[],
  ratePerSecond: number,
  minLeadMs: number,
  set: (id: string, dueAt: number) => Promise<unknown>,
  firedLag: (id: string, dueAt: number) => Promise<number | null>,
) {
  const leadMs = Math.max(minLeadMs, (2 * ids.length * 1000) / ratePerSecond);
  const dueAt = Math.ceil((Date.now() + leadMs) / 1000) * 1000;
  await closedLoop(ids.length, 50, (i) => set(ids[i]!, dueAt));
  const sentBeforeDueMs = dueAt - Date.now();
  await sleep(Math.max(0, dueAt - Date.now()) + 1_000);
  // Until a sample has fired, only the sample is read: reading all of them every round would add a query (a
  // replay, for an evicted entity) per entity per second to the very work being timed, and push entities
  // whose timers are due out of the cache (bench/README.md, "Deadlines: what the benchmark measured").
  const sample = ids.filter((_, i) => i % Math.max(1, Math.floor(ids.length / SAMPLE)) === 0);
  for (let i = 0; i < 60; i++) {
    const fired = await Promise.all(sample.map((id) => firedLag(id, dueAt).catch(() => null)));
    if (fired.every((lag) => lag !== null)) break;
    await sleep(1_000);
  }
  let lags: (number | null)[] = [];
  for (let i = 0; i < 60; i++) {
    const read: (number | null)[] = new Array(ids.length);
    // A query may time out while the worker works through the backlog; that entity is read again next round.
    await closedLoop(ids.length, 50, async (j) => (read[j] = lags[j] ?? (await firedLag(ids[j]!, dueAt).catch(() => null))));
    lags = read;
    if (lags.every((lag) => lag !== null)) break;
    await sleep(1_000);
  }
  const fired = lags.filter((lag): lag is number => lag !== null);
  return { fired: fired.length, lag: latency(fired), leadMs: Math.round(leadMs), sentBeforeDueMs };
}

export async function scale(ctx: BenchContext, maxCachedWorkflows: number): Promise<ScenarioResult> {
  const entities = ctx.quick ? 300 : 10_000;
  const deadlines = ctx.quick ? 100 : 1_000;
  // Bare entities: enough to push the oldest out of the cache, as the service's 10,000 do.
  const bareEntities = ctx.quick ? 300 : Math.max(1_000, maxCachedWorkflows + 400);
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

  const entity = (id: string) => ctx.client.workflow.getHandle(taskEntityWorkflowId(id));
  const queries = await cachedVersusEvicted(ids, (id) => entity(id).query(getTaskQuery));
  const evictable = entities > maxCachedWorkflows + queries.sample;
  ctx.log(
    `scale: query p50 cached ${queries.cached.p50} ms, evicted ${queries.evicted.p50} ms (eviction ${evictable ? 'certain' : 'not forced: fewer entities than cache slots'})`,
  );

  // deadline_seconds are whole seconds, so each is chosen from the moment it is sent: they fall due
  // within about a second. Lag = when the entity marked the task overdue - its deadline.
  const targets = ids.slice(entities - deadlines);
  const overdue = await simultaneousDeadlines(
    targets,
    creationRate,
    ctx.quick ? 8_000 : 25_000,
    (id, dueAt) => entity(id).executeUpdate(setDeadlineUpdate, { args: [{ deadline_seconds: Math.max(1, Math.round((dueAt - Date.now()) / 1000)) }] }),
    async (id) => {
      const task = await entity(id).query(getTaskQuery);
      return task?.status === 'overdue' ? Date.parse(task.updated_at) - Date.parse(task.deadline!) : null;
    },
  );
  ctx.log(`scale: ${overdue.fired}/${deadlines} overdue; lag p50 ${overdue.lag.p50} ms p99 ${overdue.lag.p99} ms (all sent ${overdue.sentBeforeDueMs} ms before due)`);
  const workerEnd = readProcess(worker.child.pid!);

  // The same on bare Temporal (same server, same worker settings): timer entities, then their deadlines.
  const tag = Date.now().toString(36);
  const bareIds = Array.from({ length: bareEntities }, (_, i) => `bare-timer-${tag}-${i}`);
  const bareCreated = await closedLoop(bareEntities, 50, (i) =>
    ctx.client.workflow.start(BareTimerEntityWorkflow, { workflowId: bareIds[i]!, taskQueue: ctx.baselineQueue }),
  );
  const bareRate = bareEntities / (bareCreated.wallMs / 1000);
  const bare = ctx.client.workflow.getHandle.bind(ctx.client.workflow);
  const bareQueries = await cachedVersusEvicted(bareIds, (id) => bare(id).query(firedAtQuery));
  const bareDeadlines = await simultaneousDeadlines(
    bareIds.slice(-deadlines),
    bareRate,
    ctx.quick ? 8_000 : 25_000,
    (id, dueAt) => bare(id).executeUpdate(setDueUpdate, { args: [dueAt] }),
    async (id, dueAt) => {
      const firedAt = await bare(id).query(firedAtQuery);
      return firedAt === null ? null : firedAt - dueAt;
    },
  );
  ctx.log(
    `scale, bare: query p50 cached ${bareQueries.cached.p50} ms, evicted ${bareQueries.evicted.p50} ms; ` +
      `${bareDeadlines.fired}/${deadlines} deadlines fired, lag p50 ${bareDeadlines.lag.p50} ms p99 ${bareDeadlines.lag.p99} ms`,
  );

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
      cachedQuery: queries.cached,
      evictedQuery: queries.evicted,
      evictionForced: evictable,
      evictedToCachedP50: round(queries.ratio),
      deadlines,
      overdue: overdue.fired,
      deadlineLeadMs: overdue.leadMs,
      deadlinesSentBeforeDueMs: overdue.sentBeforeDueMs,
      overdueLag: overdue.lag,
      bare: {
        entities: bareEntities,
        creationPerSecond: round(bareRate, 1),
        cachedQuery: bareQueries.cached,
        evictedQuery: bareQueries.evicted,
        evictedToCachedP50: round(bareQueries.ratio),
        deadlinesFired: bareDeadlines.fired,
        deadlinesSentBeforeDueMs: bareDeadlines.sentBeforeDueMs,
        firedLag: bareDeadlines.lag,
      },
      evictedQueryToBareP50: round(queries.evicted.p50 / bareQueries.evicted.p50),
      overdueLagToBareP99: round(overdue.lag.p99 / Math.max(1, bareDeadlines.lag.p99)),
    },
    goals: [
      goal('worker peak RSS', workerEnd.peakRssMiB, 1536, 'atMost', 'MiB'),
      goal('evicted / cached query p50', queries.ratio, 2.5, 'atMost'),
      goal('all deadlines marked overdue', overdue.fired, deadlines, 'atLeast'),
      goal('overdue lag p99', overdue.lag.p99, 2_000, 'atMost', 'ms'),
      goal('overdue lag p99 / bare timer entity p99', overdue.lag.p99 / Math.max(1, bareDeadlines.lag.p99), 1.5, 'atMost'),
    ],
    usage: usage.finish((performance.now() - started) / 1000),
  };
}
