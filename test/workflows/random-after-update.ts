/**
 * Probe for the tracing interceptors' effect on workflow randomness: an update with a validator, then an
 * activity whose id is the workflow's next `uuid4()`. Validators run live but not on replay, so anything
 * a validator draws from the workflow's random stream changes that id on replay: a non-determinism error.
 */
import { condition, defineUpdate, proxyActivities, setHandler, uuid4 } from '@temporalio/workflow';

export const go = defineUpdate<void>('go');

export async function RandomAfterUpdateWorkflow(): Promise<string> {
  let ready = false;
  setHandler(go, () => void (ready = true), { validator: () => undefined });
  await condition(() => ready);
  const activityId = uuid4();
  await proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '10 seconds', activityId }).noop();
  return activityId;
}
