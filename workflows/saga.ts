/**
 * Compensations registered as a saga goes, run in reverse order when it fails. Each one runs even if
 * an earlier one failed (best effort, as in the seed), and none can be cancelled half-way: a cancelled
 * workflow still puts back what it changed.
 */
import { CancellationScope, log } from '@temporalio/workflow';

export class Compensations {
  private readonly steps: { name: string; run: () => Promise<unknown> }[] = [];

  add(name: string, run: () => Promise<unknown>): void {
    this.steps.push({ name, run });
  }

  /** Runs every registered compensation, newest first; returns the names of those that failed. */
  async runAll(): Promise<string[]> {
    const failed: string[] = [];
    await CancellationScope.nonCancellable(async () => {
      for (const step of [...this.steps].reverse()) {
        try {
          await step.run();
          log.info(`Compensation ${step.name} applied`);
        } catch (err) {
          failed.push(step.name);
          log.error(`Compensation ${step.name} failed: ${rootCauseMessage(err)}`);
        }
      }
    });
    return failed;
  }
}

/** The innermost message of a failure chain: ActivityFailure -> ApplicationFailure("what went wrong"). */
export function rootCauseMessage(err: unknown): string {
  let current: unknown = err;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
