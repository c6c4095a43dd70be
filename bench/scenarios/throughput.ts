/** 1. Processing throughput: TaskProcessingWorkflow completions per second vs five no-op activities. */
import { TaskProcessingWorkflow } from '../../workflows/task-processing';
import { BareFiveStepWorkflow } from '../baseline-workflows';
import { goal, type BenchContext, type ScenarioResult } from '../context';
import { Usage } from '../processes';
import { closedLoop, median, round } from '../stats';

export async function throughput(ctx: BenchContext): Promise<ScenarioResult> {
  const levels = ctx.quick ? [10, 50] : [10, 50, 200];
  const usage = new Usage(ctx.processes);
  const started = performance.now();
  const rows: { concurrency: number; runs: number; ours: number[]; bare: number[]; oursPerSecond: number; barePerSecond: number; ratio: number }[] = [];
  let seq = 0;
  for (const concurrency of levels) {
    const total = ctx.quick ? 40 : Math.max(200, concurrency * 2);
    const ours: number[] = [];
    const bare: number[] = [];
    for (let r = 0; r < ctx.repeats; r++) {
      // Alternate, so drift on a shared machine hits both sides alike.
      const tag = `bench-${Date.now().toString(36)}-${seq++}`;
      const a = await closedLoop(total, concurrency, (i) =>
        ctx.client.workflow.execute(TaskProcessingWorkflow, {
          workflowId: `task-workflow-${tag}-${i}`,
          taskQueue: ctx.config.TASK_QUEUE,
          args: [{ task_id: `${tag}-${i}`, title: 'Bench', description: 'Throughput', assignee: 'bench@example.com', deadline_seconds: 86_400 }],
        }),
      );
      ours.push(total / (a.wallMs / 1000));
      const b = await closedLoop(total, concurrency, (i) =>
        ctx.client.workflow.execute(BareFiveStepWorkflow, { workflowId: `bare-${tag}-${i}`, taskQueue: ctx.baselineQueue }),
      );
      bare.push(total / (b.wallMs / 1000));
    }
    const row = {
      concurrency,
      runs: total,
      ours: ours.map((x) => round(x, 1)),
      bare: bare.map((x) => round(x, 1)),
      oursPerSecond: round(median(ours), 1),
      barePerSecond: round(median(bare), 1),
      ratio: round(median(ours) / median(bare)),
    };
    rows.push(row);
    ctx.log(`throughput c=${concurrency}: ours ${row.oursPerSecond}/s, bare ${row.barePerSecond}/s, ratio ${row.ratio}`);
  }
  const best = Math.max(...rows.map((r) => r.oursPerSecond));
  return {
    name: 'throughput',
    title: 'Processing throughput (completed runs per second)',
    figures: { rows },
    goals: [
      goal('completed per second (best level)', best, 40, 'atLeast', '/s'),
      ...rows.map((r) => goal(`ratio to bare at concurrency ${r.concurrency}`, r.ratio, 0.6, 'atLeast')),
    ],
    usage: usage.finish((performance.now() - started) / 1000),
  };
}
