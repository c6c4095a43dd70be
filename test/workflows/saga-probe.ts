/** A workflow that exercises the Compensations helper alone, for test/saga.test.ts. */
import { proxyActivities } from '@temporalio/workflow';
import { Compensations } from '../../workflows/saga';

interface ProbeActivities {
  undo(step: string): Promise<void>;
}

const { undo } = proxyActivities<ProbeActivities>({ startToCloseTimeout: '5 seconds', retry: { maximumAttempts: 1 } });

export async function SagaProbeWorkflow(steps: string[]): Promise<string[]> {
  const compensations = new Compensations();
  for (const step of steps) compensations.add(step, () => undo(step));
  return (await compensations.runAll()).map((failed) => failed.name);
}
