/** 1. Processing throughput: TaskProcessingWorkflow completions per second vs five no-op activities. */
import { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { ProcessingClient } from '../../clients/processing';
import type { TaskProcessingResult } from '../../common/schemas';
import { notificationRunId } from '../../notifications/api';
import { TaskProcessingWorkflow } from '../../workflows/task-processing';
import { BareFiveStepWorkflow } from '../baseline-workflows';
import { goal, type BenchContext, type ScenarioResult } from '../context';
import { Usage, cpuDuring } from '../processes';
import { closedLoop, median, round } from '../stats';

/**
 * The task every processing benchmark runs: valid, so that a run goes through all five steps. (The tracing
 * scenario once ran a 7-character description, which the validate step rejects: it measured runs that end
 * after one activity. See bench/README.md, "The riddle".)
 */
const BENCH_TASK = { title: 'Bench task', description: 'Measured by the benchmark', assignee: 'bench@example.com', deadline_seconds: 86_400 };

/**
 * One processing run, started as the API starts it (clients/processing.ts), and its result, checked: a
 * benchmark of processing runs must measure runs that completed.
 */
export async function processAndWait(client: Client, taskQueue: string, taskId: string): Promise<TaskProcessingResult> {
  const { workflowId } = await new ProcessingClient(client, taskQueue).start({ task_id: taskId, ...BENCH_TASK });
  const result = await client.workflow.getHandle<typeof TaskProcessingWorkflow>(workflowId).result();
  if (result.status !== 'completed') throw new Error(`A benchmark run ended ${result.status}: ${result.message}`);
  return result;
}

/**
 * CPU milliseconds per completed run, from the CPU each process used while one side's runs went on (`readings`,
 * one per repeat): the Temporal server's, and the workers' (ours: the service's worker and the notifications app;
 * bare: the baseline worker). Every process shares the machine's cores, so the two together set the pace.
 */
function cpuMsPerRun(readings: Record<string, number>[], runs: number, workers: string[]) {
  const msPerRun = (counted: (name: string) => boolean) => {
    const seconds = readings.flatMap((reading) => Object.entries(reading)).reduce((sum, [name, cpu]) => (counted(name) ? sum + cpu : sum), 0);
    return round((seconds * 1000) / runs, 1);
  };
  return { server: msPerRun((name) => name.startsWith('temporal')), workers: msPerRun((name) => workers.includes(name)) };
}

export async function throughput(ctx: BenchContext): Promise<ScenarioResult> {
  const levels = ctx.quick ? [10, 50] : [10, 50, 200];
  const usage = new Usage(ctx.processes);
  const started = performance.now();
  const rows: {
    concurrency: number;
    runs: number;
    ours: number[];
    bare: number[];
    oursPerSecond: number;
    barePerSecond: number;
    ratio: number;
    cpuMsPerRun: { ours: { server: number; workers: number }; bare: { server: number; workers: number } };
  }[] = [];
  let seq = 0;
  let lastTag = '';
  for (const concurrency of levels) {
    const total = ctx.quick ? 40 : Math.max(200, concurrency * 2);
    const ours: number[] = [];
    const bare: number[] = [];
    const oursCpu: Record<string, number>[] = [];
    const bareCpu: Record<string, number>[] = [];
    for (let r = 0; r < ctx.repeats; r++) {
      // Alternate, so drift on a shared machine hits both sides alike.
      const tag = `bench-${Date.now().toString(36)}-${seq++}`;
      lastTag = tag;
      const a = await cpuDuring(ctx.processes, () => closedLoop(total, concurrency, (i) => processAndWait(ctx.client, ctx.config.TASK_QUEUE, `${tag}-${i}`)));
      ours.push(total / (a.result.wallMs / 1000));
      oursCpu.push(a.cpuSeconds);
      const b = await cpuDuring(ctx.processes, () =>
        closedLoop(total, concurrency, (i) => ctx.client.workflow.execute(BareFiveStepWorkflow, { workflowId: `bare-${tag}-${i}`, taskQueue: ctx.baselineQueue })),
      );
      bare.push(total / (b.result.wallMs / 1000));
      bareCpu.push(b.cpuSeconds);
    }
    const row = {
      concurrency,
      runs: total,
      ours: ours.map((x) => round(x, 1)),
      bare: bare.map((x) => round(x, 1)),
      oursPerSecond: round(median(ours), 1),
      barePerSecond: round(median(bare), 1),
      ratio: round(median(ours) / median(bare)),
      cpuMsPerRun: {
        ours: cpuMsPerRun(oursCpu, total * ctx.repeats, ['worker', 'notifications']),
        bare: cpuMsPerRun(bareCpu, total * ctx.repeats, ['baseline-worker']),
      },
    };
    rows.push(row);
    ctx.log(
      `throughput c=${concurrency}: ours ${row.oursPerSecond}/s, bare ${row.barePerSecond}/s, ratio ${row.ratio}; ` +
        `CPU ms per run, server ${row.cpuMsPerRun.ours.server} / ${row.cpuMsPerRun.bare.server}, workers ${row.cpuMsPerRun.ours.workers} / ${row.cpuMsPerRun.bare.workers}`,
    );
  }
  const cost = await costPerRun(ctx, `task-workflow-${lastTag}-0`, `task-entity-${lastTag}-0`, `bare-${lastTag}-0`);
  ctx.log(`throughput: one run costs ${JSON.stringify(cost)}`);
  const best = Math.max(...rows.map((r) => r.oursPerSecond));
  return {
    name: 'throughput',
    title: 'Processing throughput (completed runs per second)',
    figures: { rows, costPerRun: cost },
    goals: [
      goal('completed per second (best level)', best, 40, 'atLeast', '/s'),
      ...rows.map((r) => goal(`ratio to bare at concurrency ${r.concurrency}`, r.ratio, 0.8, 'atLeast')),
    ],
    usage: usage.finish((performance.now() - started) / 1000),
  };
}

/** What Temporal does for one workflow (its whole history): workflow tasks, activity tasks and events. */
interface WorkflowCost {
  workflowTasks: number;
  activityTasks: number;
  localActivities: number;
  /** Nexus operations scheduled: each a Nexus task for the handler's worker (the notify step). */
  nexusOperations: number;
  events: number;
}

async function costOf(ctx: BenchContext, workflowId: string): Promise<WorkflowCost> {
  return costOfEvents((await ctx.client.workflow.getHandle(workflowId).fetchHistory()).events ?? []);
}

function costOfEvents(events: temporal.api.history.v1.IHistoryEvent[]): WorkflowCost {
  return {
    workflowTasks: events.filter((e) => e.workflowTaskCompletedEventAttributes).length,
    activityTasks: events.filter((e) => e.activityTaskScheduledEventAttributes).length,
    localActivities: events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length,
    nexusOperations: events.filter((e) => e.nexusOperationScheduledEventAttributes).length,
    events: events.length,
  };
}

/**
 * One processing run's cost against the bare run's: the run, the task entity it created (everything in its
 * history: the changes and the publishing of their events), the notification run in the notifications app
 * when there was one (none when its first attempt, made at once, delivered), and all together.
 */
async function costPerRun(ctx: BenchContext, runId: string, entityId: string, bareId: string) {
  const [run, entity, bare] = await Promise.all([costOf(ctx, runId), costOf(ctx, entityId), costOf(ctx, bareId)]);
  const firstRunId = (await ctx.client.workflow.getHandle(runId).describe()).raw.workflowExecutionInfo?.firstRunId ?? '';
  const notificationId = notificationRunId(runId, firstRunId);
  const app = new Client({ connection: ctx.client.connection, namespace: ctx.config.NOTIFICATIONS_NAMESPACE });
  const notification = await app.workflow
    .getHandle(notificationId)
    .fetchHistory()
    .then((history) => costOfEvents(history.events ?? []), () => undefined);
  const parts = [run, entity, ...(notification ? [notification] : [])];
  const sum = (key: keyof WorkflowCost) => parts.reduce((total, part) => total + part[key], 0);
  const total: WorkflowCost = { workflowTasks: sum('workflowTasks'), activityTasks: sum('activityTasks'), localActivities: sum('localActivities'), nexusOperations: sum('nexusOperations'), events: sum('events') };
  return { run, entity, notificationRun: notification ?? null, total, bare };
}
