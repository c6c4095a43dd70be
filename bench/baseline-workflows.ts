/**
 * Bare Temporal, the benchmarks' baseline: the least a workflow of the same shape can cost on the same
 * server and worker settings. Bundled on its own (bench/baseline-worker.ts), never by the service.
 */
import { condition, defineQuery, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';
import type { baselineActivities } from './baseline-activities';

const { noop } = proxyActivities<typeof baselineActivities>({ startToCloseTimeout: '10 seconds' });

/** Five activities in a row that do nothing: TaskProcessingWorkflow's step count without its work. */
export async function BareFiveStepWorkflow(): Promise<string> {
  for (let step = 0; step < 5; step++) await noop();
  return 'done';
}

export const bumpUpdate = defineUpdate<number, [string]>('bump');
export const countQuery = defineQuery<number>('count');

/** A long-lived workflow with one trivial update and one query: what an entity costs at the minimum. */
export async function TrivialEntityWorkflow(): Promise<void> {
  let count = 0;
  setHandler(bumpUpdate, () => ++count);
  setHandler(countQuery, () => count);
  await condition(() => false);
}
