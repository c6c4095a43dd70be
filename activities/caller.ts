/** Who is calling this activity, stable across its retries: the basis of every idempotency key. */
import { Context } from '@temporalio/activity';

export interface ActivityCaller {
  workflowId: string;
  /** `{workflowId}/{runId}/{activityId}`: the same on every retry of this call, different for any other call. */
  idempotencyKey: string;
}

export function activityCaller(): ActivityCaller {
  const { workflowExecution, activityId } = Context.current().info;
  if (workflowExecution === undefined) throw new Error('This activity must be called from a workflow');
  return {
    workflowId: workflowExecution.workflowId,
    idempotencyKey: `${workflowExecution.workflowId}/${workflowExecution.runId}/${activityId}`,
  };
}
