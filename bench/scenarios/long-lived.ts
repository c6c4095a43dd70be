/** 5. Long-lived entity: many mutations on one task; continue-as-new keeps history bounded; queries stay fast. */
import { equals } from '../../clients/visibility-query';
import { taskEntityWorkflowId } from '../../workflows/shared/ids';
import { assignTaskUpdate, getTaskQuery } from '../../entities/task/messages';
import { createTask } from '../api';
import { goal, type BenchContext, type ScenarioResult } from '../context';
import { Usage } from '../processes';
import { closedLoop, latency, round, sequential } from '../stats';

export async function longLived(ctx: BenchContext): Promise<ScenarioResult> {
  const mutations = ctx.quick ? 500 : 10_000;
  const usage = new Usage(ctx.processes);
  const started = performance.now();
  const busy = await createTask(ctx.apiUrl, { title: 'Busy', description: 'Long-lived entity' });
  const fresh = await createTask(ctx.apiUrl, { title: 'Fresh', description: 'Long-lived entity' });
  const handle = (id: string) => ctx.client.workflow.getHandle(taskEntityWorkflowId(id));

  // 8 callers at once: below Temporal's 10 in-flight updates per workflow.
  const loop = await closedLoop(mutations, 8, (i) => handle(busy).executeUpdate(assignTaskUpdate, { args: [{ assignee: `user${i % 2}@example.com` }] }));
  const final = await handle(busy).query(getTaskQuery);
  const description = await handle(busy).describe();
  let runs = 0;
  for await (const _ of ctx.client.workflow.list({ query: equals('WorkflowId', taskEntityWorkflowId(busy)) })) runs++;
  ctx.log(`long-lived: ${mutations} mutations in ${round(loop.wallMs / 1000, 1)} s; version ${final?.version}; ${runs} runs; current history ${description.historyLength} events`);

  const measure = (id: string) => sequential(200, () => handle(id).query(getTaskQuery));
  await measure(busy);
  const busyQuery = await measure(busy);
  await measure(fresh);
  const freshQuery = await measure(fresh);
  const ratio = busyQuery.p50 / freshQuery.p50;
  ctx.log(`long-lived: query p50 ${busyQuery.p50} ms after ${mutations} mutations vs ${freshQuery.p50} ms fresh (${round(ratio)}x)`);
  return {
    name: 'long-lived',
    title: `${mutations.toLocaleString('en')} mutations on one entity`,
    figures: {
      mutations,
      mutationSeconds: round(loop.wallMs / 1000, 1),
      mutationsPerSecond: round(mutations / (loop.wallMs / 1000), 1),
      mutationLatency: latency(loop.latenciesMs),
      finalVersion: final?.version,
      runs,
      currentHistoryLength: description.historyLength,
      busyQuery,
      freshQuery,
      ratioP50: round(ratio),
    },
    goals: [
      goal('every mutation applied (final version)', final?.version ?? 0, mutations + 1, 'atLeast'),
      // A quick run's few hundred updates fit in one run; continue-as-new is only expected at full size.
      ...(ctx.quick ? [] : [goal('continue-as-new happened (runs)', runs, 2, 'atLeast')]),
      goal('query p50 after / fresh', ratio, 1.5, 'atMost'),
    ],
    usage: usage.finish((performance.now() - started) / 1000),
  };
}
