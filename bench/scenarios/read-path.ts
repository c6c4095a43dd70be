/** 2. Read path: GET /tasks/{id} over HTTP (autocannon) vs the same query made directly with the Temporal client. */
import autocannon from 'autocannon';
import { taskEntityWorkflowId } from '../../workflows/shared/ids';
import { getTaskQuery } from '../../entities/task/messages';
import { createTask } from '../api';
import { goal, type BenchContext, type ScenarioResult } from '../context';
import { Usage } from '../processes';
import { closedLoop, latency, median, round, type Latency } from '../stats';

const CONNECTIONS = 10;

export async function readPath(ctx: BenchContext): Promise<ScenarioResult> {
  const durationSeconds = ctx.quick ? 2 : 10;
  const task_id = await createTask(ctx.apiUrl, { title: 'Bench read', description: 'Read path' });
  const handle = ctx.client.workflow.getHandle(taskEntityWorkflowId(task_id));
  await handle.query(getTaskQuery); // warm: the entity is in the worker's cache for both sides

  const usage = new Usage(ctx.processes);
  const started = performance.now();
  const http: { p50: number; p99: number; mean: number; rps: number }[] = [];
  const direct: (Latency & { rps: number })[] = [];
  for (let r = 0; r < ctx.repeats; r++) {
    const result = await autocannon({ url: `${ctx.apiUrl}/tasks/${task_id}`, connections: CONNECTIONS, duration: durationSeconds });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`GET /tasks/{id}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
    http.push({ p50: result.latency.p50, p99: result.latency.p99, mean: result.latency.average, rps: result.requests.average });
    // The same number of calls, the same concurrency, straight to Temporal.
    const loop = await closedLoop(result.requests.total, CONNECTIONS, () => handle.query(getTaskQuery));
    direct.push({ ...latency(loop.latenciesMs), rps: round(loop.latenciesMs.length / (loop.wallMs / 1000), 0) });
  }
  const httpP50 = median(http.map((x) => x.p50));
  const directP50 = median(direct.map((x) => x.p50));
  ctx.log(`read path: HTTP p50 ${httpP50} ms, direct query p50 ${directP50} ms`);
  return {
    name: 'read-path',
    title: 'GET /tasks/{id} vs a direct query (ms)',
    figures: {
      connections: CONNECTIONS,
      durationSeconds,
      http,
      direct,
      httpP50,
      httpP99: median(http.map((x) => x.p99)),
      directP50,
      directP99: median(direct.map((x) => x.p99)),
      ratioP50: round(httpP50 / directP50),
      note: 'autocannon reports whole milliseconds',
    },
    goals: [goal('HTTP p50 / direct query p50', httpP50 / directP50, 1.25, 'atMost')],
    usage: usage.finish((performance.now() - started) / 1000),
  };
}
