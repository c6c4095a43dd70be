/**
 * 10. Notify through Nexus: the processing run's notify step as a Nexus operation served by the notifications app
 * (its own process, namespace and task queue; the default) vs as the worker's own activity (NOTIFY_VIA=activity,
 * a second worker on its own task queue). One run at a time, the two sides interleaved. The step is timed from
 * the run's history (scheduled to completed, the server's clocks), the whole run from the client.
 */
import { temporal } from '@temporalio/proto';
import { goal, type BenchContext, type ScenarioResult } from '../context';
import { Usage } from '../processes';
import { latency, median, round, type Latency } from '../stats';

const EventType = temporal.api.enums.v1.EventType;

export interface NotifyBenchContext extends BenchContext {
  /** The task queue of a worker of the service with NOTIFY_VIA=activity. */
  activityQueue: string;
}

const millis = (time: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(time?.seconds ?? 0) * 1000 + (time?.nanos ?? 0) / 1e6;

export async function notify(ctx: NotifyBenchContext): Promise<ScenarioResult> {
  const n = ctx.quick ? 10 : 60;
  let count = 0;
  const run = async (taskQueue: string) => {
    const taskId = `bench-notify-${Date.now().toString(36)}-${count++}`;
    const t0 = performance.now();
    const handle = await ctx.client.workflow.start('TaskProcessingWorkflow', {
      workflowId: `task-workflow-${taskId}`,
      taskQueue,
      args: [{ task_id: taskId, title: 'Bench notify', description: 'Notified through Nexus or not', assignee: 'alice@example.com', deadline_seconds: 3600 }],
    });
    const result = (await handle.result()) as { status: string };
    const total = performance.now() - t0;
    if (result.status !== 'completed') throw new Error(`notify bench: run ${taskId} ended ${JSON.stringify(result)}`);
    const events = (await handle.fetchHistory()).events ?? [];
    const at = (type: number, activity?: string) =>
      millis(events.find((e) => e.eventType === type && (activity === undefined || e.activityTaskScheduledEventAttributes?.activityType?.name === activity))?.eventTime);
    const nexus = events.some((e) => e.eventType === EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED);
    const step = nexus
      ? at(EventType.EVENT_TYPE_NEXUS_OPERATION_COMPLETED) - at(EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED)
      : millis(events.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED && events.find((s) => s.eventId?.toString() === e.activityTaskCompletedEventAttributes?.scheduledEventId?.toString())?.activityTaskScheduledEventAttributes?.activityType?.name === 'notifyAssignee')?.eventTime) -
        at(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, 'notifyAssignee');
    return { nexus, step, total };
  };
  // Warm both sides (bundles, caches, the endpoint's first call).
  await run(ctx.config.TASK_QUEUE);
  await run(ctx.activityQueue);

  const usage = new Usage(ctx.processes);
  const started = performance.now();
  const steps = { nexus: [] as Latency[], activity: [] as Latency[] };
  const totals = { nexus: [] as Latency[], activity: [] as Latency[] };
  for (let r = 0; r < ctx.repeats; r++) {
    const samples = { nexus: { step: [] as number[], total: [] as number[] }, activity: { step: [] as number[], total: [] as number[] } };
    for (let i = 0; i < n; i++) {
      const order = i % 2 === 0 ? [ctx.config.TASK_QUEUE, ctx.activityQueue] : [ctx.activityQueue, ctx.config.TASK_QUEUE];
      for (const queue of order) {
        const { nexus, step, total } = await run(queue);
        const side = samples[nexus ? 'nexus' : 'activity'];
        side.step.push(step);
        side.total.push(total);
      }
    }
    if (samples.nexus.step.length !== n || samples.activity.step.length !== n) throw new Error('notify bench: a side did not notify the way it was set to');
    steps.nexus.push(latency(samples.nexus.step));
    steps.activity.push(latency(samples.activity.step));
    totals.nexus.push(latency(samples.nexus.total));
    totals.activity.push(latency(samples.activity.total));
  }
  const p50 = (runs: Latency[]) => round(median(runs.map((x) => x.p50)));
  const figures = {
    runsPerSide: n,
    stepNexusP50: p50(steps.nexus),
    stepActivityP50: p50(steps.activity),
    runNexusP50: p50(totals.nexus),
    runActivityP50: p50(totals.activity),
    stepNexus: steps.nexus,
    stepActivity: steps.activity,
    runNexus: totals.nexus,
    runActivity: totals.activity,
  };
  ctx.log(`notify: step over Nexus p50 ${figures.stepNexusP50} ms vs activity ${figures.stepActivityP50} ms; whole run ${figures.runNexusP50} vs ${figures.runActivityP50} ms`);
  return {
    name: 'notify',
    title: 'The notify step through the notifications app over Nexus vs as the worker’s own activity (ms, one run at a time)',
    figures: { ...figures, runRatioP50: round(figures.runNexusP50 / figures.runActivityP50) },
    goals: [goal('processing run p50 with Nexus / with the activity', figures.runNexusP50 / figures.runActivityP50, 1.5, 'atMost')],
    usage: usage.finish((performance.now() - started) / 1000),
  };
}
