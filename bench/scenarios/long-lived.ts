/**
 * 5. Long-lived entity: many mutations on one task; continue-as-new keeps history bounded; queries stay fast.
 * The mutations go through the entity's client, as the API and the activities send them: an update that
 * arrives while the entity continues as new is refused ("send again") and the client sends it again. A quick
 * run gives the entity a low history limit, so it continues as new there too (CI runs it).
 */
import { WithStartWorkflowOperation } from '@temporalio/client';
import { TaskEntityClient } from '../../clients/task-entity';
import { equals } from '../../clients/visibility-query';
import { taskEntityWorkflowId } from '../../workflows/shared/ids';
import { TASK_ENTITY_WORKFLOW_TYPE, createTaskUpdate, getTaskQuery, type TaskEntityWorkflowSignature } from '../../entities/task/messages';
import { createTask } from '../api';
import { goal, type BenchContext, type ScenarioResult } from '../context';
import { Usage } from '../processes';
import { closedLoop, latency, round, sequential } from '../stats';

export async function longLived(ctx: BenchContext): Promise<ScenarioResult> {
  const mutations = ctx.quick ? 500 : 10_000;
  const usage = new Usage(ctx.processes);
  const started = performance.now();
  const busy = `bench-long-lived-${Date.now().toString(36)}`;
  // Created as POST /tasks creates it; a quick run's entity continues as new every 300 events.
  await ctx.client.workflow.executeUpdateWithStart(createTaskUpdate, {
    args: [{ title: 'Busy', description: 'Long-lived entity' }],
    startWorkflowOperation: new WithStartWorkflowOperation<TaskEntityWorkflowSignature>(TASK_ENTITY_WORKFLOW_TYPE, {
      workflowId: taskEntityWorkflowId(busy),
      taskQueue: ctx.config.TASK_QUEUE,
      args: [{ task_id: busy, ...(ctx.quick ? { history_limit: 300 } : {}) }],
      workflowIdConflictPolicy: 'FAIL',
    }),
  });
  const fresh = await createTask(ctx.apiUrl, { title: 'Fresh', description: 'Long-lived entity' });
  const handle = (id: string) => ctx.client.workflow.getHandle(taskEntityWorkflowId(id));
  const tasks = new TaskEntityClient(ctx.client, ctx.config.TASK_QUEUE);

  // 8 callers at once: below Temporal's 10 in-flight updates per workflow.
  const loop = await closedLoop(mutations, 8, (i) => tasks.assign(busy, `user${i % 2}@example.com`));
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
      goal('continue-as-new happened (runs)', runs, 2, 'atLeast'),
      goal('query p50 after / fresh', ratio, 1.5, 'atMost'),
    ],
    usage: usage.finish((performance.now() - started) / 1000),
  };
}
