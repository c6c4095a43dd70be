/**
 * A durable timer that something else may make moot (the updatable-timer pattern of Temporal's
 * timer-examples sample), with a summary the Web UI shows on the timer.
 */
import { CancellationScope, condition, sleep } from '@temporalio/workflow';

/** Sleeps `ms` unless `interrupted()` holds first. True when the time ran out, false when interrupted. */
export async function sleepUnless(ms: number, interrupted: () => boolean, summary: string): Promise<boolean> {
  const scope = new CancellationScope();
  const timer = scope.run(() => sleep(ms, { summary }));
  // After an interruption the cancelled timer rejects; that is expected, not an error.
  timer.catch(() => undefined);
  const elapsed = await Promise.race([timer.then(() => true), condition(interrupted).then(() => false)]);
  if (!elapsed) scope.cancel();
  return elapsed;
}
