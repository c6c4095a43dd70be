/**
 * Bare Temporal, the benchmarks' baseline: the least a workflow of the same shape can cost on the same
 * server and worker settings. Bundled on its own (bench/baseline-worker.ts), never by the service.
 */
import { condition, defineQuery, defineUpdate, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
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

export const setDueUpdate = defineUpdate<void, [number]>('setDue');
export const firedAtQuery = defineQuery<number | null>('firedAt');

/**
 * An entity with a deadline and nothing else: a durable timer set by an update, and the workflow time at
 * which it fired. What the scale scenario's evicted queries and simultaneous deadlines cost at the minimum.
 */
export async function BareTimerEntityWorkflow(): Promise<void> {
  let dueAt: number | null = null;
  let firedAt: number | null = null;
  setHandler(setDueUpdate, (at) => void (dueAt = at));
  setHandler(firedAtQuery, () => firedAt);
  await condition(() => dueAt !== null);
  await sleep(Math.max(1, dueAt! - Date.now()));
  firedAt = Date.now();
  await condition(() => false);
}
