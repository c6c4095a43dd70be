/**
 * Heartbeats while an activity waits on something slow (a webhook, a model). With a heartbeat timeout on
 * the activity, a worker that dies mid-call is noticed within seconds, however long the call itself may
 * take (NOTIFY_TIMEOUT_MS, LLM_TIMEOUT_MS); the heartbeat also brings a cancellation to the activity.
 */
import { Context } from '@temporalio/activity';

/** Well inside HEARTBEAT_TIMEOUT_MS (workflows/shared/activity-timeouts.ts); the SDK throttles what it sends. */
const HEARTBEAT_EVERY_MS = 1_000;

export async function heartbeating<T>(work: Promise<T>): Promise<T> {
  const context = Context.current();
  const timer = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
