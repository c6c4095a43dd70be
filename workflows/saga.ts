/**
 * Compensations registered as a saga goes, run in reverse order when it fails. Each one runs even if
 * an earlier one failed (best effort, as in the seed), and none can be cancelled half-way: a cancelled
 * workflow still puts back what it changed.
 */
import { ApplicationFailure, CancellationScope, log } from '@temporalio/workflow';

export interface FailedCompensation {
  name: string;
  error: unknown;
}

export class Compensations {
  private readonly steps: { name: string; run: () => Promise<unknown> }[] = [];

  add(name: string, run: () => Promise<unknown>): void {
    this.steps.push({ name, run });
  }

  /** Runs every registered compensation, newest first; returns those that failed, with why. */
  async runAll(): Promise<FailedCompensation[]> {
    const failed: FailedCompensation[] = [];
    await CancellationScope.nonCancellable(async () => {
      for (const step of [...this.steps].reverse()) {
        try {
          await step.run();
          log.info(`Compensation ${step.name} applied`);
        } catch (error) {
          failed.push({ name: step.name, error });
          log.error(`Compensation ${step.name} failed: ${rootCauseMessage(error)}`);
        }
      }
    });
    return failed;
  }
}

/** The innermost message of a failure chain: ActivityFailure -> ApplicationFailure("what went wrong"). */
export function rootCauseMessage(err: unknown): string {
  return rootCause(err) instanceof Error ? (rootCause(err) as Error).message : String(err);
}

/** The ApplicationFailure type at the root of a failure chain (e.g. "VersionConflict"), if any. */
export function rootCauseType(err: unknown): string | undefined {
  const root = rootCause(err);
  return root instanceof ApplicationFailure ? (root.type ?? undefined) : undefined;
}

function rootCause(err: unknown): unknown {
  let current: unknown = err;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current;
}
