/**
 * 11. A project's roll-up: how soon after a task changes does `GET /projects/{id}` show it, for a project of 1,000
 * tasks (300 in --quick). The tasks are created in the project; then, one at a time, a task is completed through
 * the API and the roll-up polled (every 5 ms) until it counts one more completed task. The lag runs from the
 * change's answer to the first read that shows it: the task's project lane, the `tellProject` activity, the
 * signal, and the query. Also: the read itself, a pass over every member, against `GET /tasks/{id}` in the same run.
 */
import { ProjectEntityClient } from '../../clients/project-entity';
import { TaskEntityClient } from '../../clients/task-entity';
import { goal, type BenchContext, type ScenarioResult } from '../context';
import { Usage } from '../processes';
import { latency, median, round, type Latency } from '../stats';

interface Rollup {
  tasks: number;
  unreported: number;
  by_status: { completed: number };
}

async function rollup(apiUrl: string, projectId: string): Promise<Rollup> {
  const response = await fetch(`${apiUrl}/projects/${projectId}?tasks_limit=0`);
  if (!response.ok) throw new Error(`GET /projects/${projectId}: ${response.status}`);
  return ((await response.json()) as { rollup: Rollup }).rollup;
}

export async function project(ctx: BenchContext): Promise<ScenarioResult> {
  const size = ctx.quick ? 300 : 1_000;
  const changes = ctx.quick ? 20 : 60;
  const projectId = `bench-project-${Date.now().toString(36)}`;
  const taskIds = Array.from({ length: size }, (_, i) => `${projectId}-${i}`);
  const projects = new ProjectEntityClient(ctx.client, ctx.config.TASK_QUEUE);
  const tasks = new TaskEntityClient(ctx.client, ctx.config.TASK_QUEUE);

  await projects.create(projectId, { name: 'Bench project', description: null, owner: 'bench', task_ids: taskIds });
  const fillStarted = performance.now();
  for (let i = 0; i < taskIds.length; i += 50) {
    await Promise.all(taskIds.slice(i, i + 50).map((id) => tasks.create(id, { title: 'Bench task', description: 'In a project', project_id: projectId })));
  }
  for (let seen = await rollup(ctx.apiUrl, projectId); seen.unreported > 0; seen = await rollup(ctx.apiUrl, projectId)) await new Promise((r) => setTimeout(r, 50));
  const fillSeconds = round((performance.now() - fillStarted) / 1000);
  ctx.log(`project: ${size} tasks created and reported in ${fillSeconds} s`);

  const usage = new Usage(ctx.processes);
  const started = performance.now();
  const lagRuns: Latency[] = [];
  const readRuns: { project: Latency; task: Latency }[] = [];
  let next = 0;
  for (let r = 0; r < ctx.repeats; r++) {
    const lags: number[] = [];
    for (let i = 0; i < changes / ctx.repeats; i++) {
      const before = (await rollup(ctx.apiUrl, projectId)).by_status.completed;
      const response = await fetch(`${ctx.apiUrl}/tasks/${taskIds[next++]}/status`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ status: 'completed' }),
      });
      if (!response.ok) throw new Error(`PUT status: ${response.status}`);
      const changed = performance.now();
      while ((await rollup(ctx.apiUrl, projectId)).by_status.completed === before) await new Promise((r) => setTimeout(r, 5));
      lags.push(performance.now() - changed);
    }
    lagRuns.push(latency(lags));
    // The read itself: the roll-up over every member, and a task's read, interleaved.
    const samples = { project: [] as number[], task: [] as number[] };
    for (let i = 0; i < 30; i++) {
      let t0 = performance.now();
      await rollup(ctx.apiUrl, projectId);
      samples.project.push(performance.now() - t0);
      t0 = performance.now();
      await fetch(`${ctx.apiUrl}/tasks/${taskIds[size - 1]}`).then((res) => res.json());
      samples.task.push(performance.now() - t0);
    }
    readRuns.push({ project: latency(samples.project), task: latency(samples.task) });
  }
  const lagP50 = round(median(lagRuns.map((l) => l.p50)));
  const lagP99 = round(median(lagRuns.map((l) => l.p99)));
  const projectReadP50 = round(median(readRuns.map((x) => x.project.p50)));
  const taskReadP50 = round(median(readRuns.map((x) => x.task.p50)));
  ctx.log(`project: roll-up current ${lagP50} ms (p99 ${lagP99}) after a change; GET /projects/{id} p50 ${projectReadP50} ms vs GET /tasks/{id} ${taskReadP50} ms`);
  return {
    name: 'project',
    title: `A ${size}-task project's roll-up: how long after a task's change it shows it, and what reading it costs`,
    figures: { tasks: size, changes, fillSeconds, lag: lagRuns, lagP50, lagP99, reads: readRuns, projectReadP50, taskReadP50, readRatioP50: round(projectReadP50 / taskReadP50) },
    goals: [goal(`roll-up of a ${size}-task project current after a change, p99`, lagP99, 1000, 'atMost', 'ms')],
    usage: usage.finish((performance.now() - started) / 1000),
  };
}
