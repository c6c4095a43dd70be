/**
 * A durable timer that something else may make moot (the updatable-timer pattern of Temporal's
 * timer-examples sample), with a summary the Web UI shows on the timer.
 *
 * The SDK does this itself since 1.24: `condition(fn, timeout, { summary })`. The entities use it for runs
 * that carry the SDK_CONDITION_TIMER_PATCH marker. Runs started before the patch keep the hand-made version
 * below, which resolves a tie differently: when the timer fires in the activation that also makes the
 * condition true, it lets the timer win (its condition waits one microtask longer), and it cancels the
 * timer one microtask later. Retire it with deprecatePatch once no run from before the patch is open.
 */
import { CancellationScope, condition, patched, sleep } from '@temporalio/workflow';
import type { Patches } from '../workflows/shared/patches';

export const SDK_CONDITION_TIMER_PATCH = 'sdk-condition-timer';

/** Sleeps `ms` unless `interrupted()` holds first. True when the time ran out, false when interrupted. */
export type SleepUnless = (ms: number, interrupted: () => boolean, summary: string) => Promise<boolean>;

/**
 * Decided once per run, at its start: the SDK's condition for runs with the patch marker. `patches`: the
 * entity's own (workflows/shared/patches.ts), which may stand for this one.
 */
export function sleepUnlessForThisRun(patches?: Patches): SleepUnless {
  const sdk = patches ? patches.has(SDK_CONDITION_TIMER_PATCH) : patched(SDK_CONDITION_TIMER_PATCH);
  return sdk ? sleepUnlessWithSdk : sleepUnlessAsRecordedBefore;
}

const sleepUnlessWithSdk: SleepUnless = async (ms, interrupted, summary) => !(await condition(interrupted, ms, { summary }));

const sleepUnlessAsRecordedBefore: SleepUnless = async (ms, interrupted, summary) => {
  const scope = new CancellationScope();
  const timer = scope.run(() => sleep(ms, { summary }));
  // After an interruption the cancelled timer rejects; that is expected, not an error.
  timer.catch(() => undefined);
  const elapsed = await Promise.race([timer.then(() => true), condition(interrupted).then(() => false)]);
  if (!elapsed) scope.cancel();
  return elapsed;
};
