/** Reads from entity workflows, bounded in time so a missing worker answers 503 instead of hanging. */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError, type QueryDefinition } from '@temporalio/common';

/** How long a read waits for the entity's worker; past it the gRPC deadline error becomes a 503. */
const QUERY_TIMEOUT_MS = 5_000;

/** The query's answer, or `ifMissing` when the entity workflow does not exist. */
export async function queryEntity<R, M>(client: Client, workflowId: string, query: QueryDefinition<R, []>, ifMissing: M): Promise<R | M> {
  const entity = client.workflow.getHandle(workflowId);
  try {
    return await client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => entity.query(query));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return ifMissing;
    throw err;
  }
}
