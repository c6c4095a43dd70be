/**
 * What a call to an entity, or to Temporal at all, can fail with, in the terms callers act on. The one
 * place that reads Temporal's errors (update failures, not-found, gRPC status codes): the API turns these
 * kinds into HTTP answers (api/errors.ts), the activities into retryable or final failures.
 */
import { ServiceError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, WorkflowNotFoundError } from '@temporalio/common';

export type EntityFailureKind =
  /** No such entity, or it holds no such task. */
  | 'not_found'
  /** The entity refused: a rule of the task, or input it does not take. */
  | 'refused'
  /** The expected version no longer holds: someone else changed it first. */
  | 'version_conflict'
  /**
   * The update did not apply: the entity's run is ending (a task just deleted, an entity continuing as
   * new) or the workflow task that carried it was interrupted. The same update sent again will land.
   */
  | 'not_applied'
  /** Temporal's limit of updates in flight for this workflow: try again shortly. */
  | 'busy'
  /** The entity has as many events waiting for Redis as it holds: it takes new work once they are published. */
  | 'backlogged'
  /** An Idempotency-Key sent again with another request. */
  | 'key_reused'
  /** Temporal did not answer (unreachable, or past the call's deadline): try again shortly. */
  | 'unavailable';

const RETRYABLE: ReadonlySet<EntityFailureKind> = new Set(['not_applied', 'busy', 'backlogged', 'unavailable']);

export class EntityError extends Error {
  override name = 'EntityError';

  constructor(
    readonly kind: EntityFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Whether the same call, sent again later, may succeed. */
  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }
}

/** Failure types the entities' updates fail with (see TaskEntityFailureType, the chat's EntityClosing). */
const BY_FAILURE_TYPE: Record<string, EntityFailureKind> = {
  TaskNotFound: 'not_found',
  ProjectNotFound: 'not_found',
  ApprovalNotFound: 'not_found',
  VersionConflict: 'version_conflict',
  EntityClosing: 'not_applied',
  // The server's own: the update reached the worker in a workflow task that completed without taking it
  // (a task kept open for a local activity can end so). Nothing applied: sent again, it lands.
  UnprocessedUpdate: 'not_applied',
  EventsBacklogged: 'backlogged',
  IdempotencyKeyReused: 'key_reused',
};

const GRPC = { CANCELLED: 1, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, UNAVAILABLE: 14 } as const;

function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code ?? ((err as { cause?: { code?: unknown } }).cause?.code);
  return typeof code === 'number' ? code : undefined;
}

/** A failed call's message with its cause's: the client wraps the server's words in a ServiceError. */
const messageAndCause = (err: unknown) => String((err as Error).message) + String((err as { cause?: Error }).cause?.message);

/**
 * The kind of a failed Temporal call, or undefined when it is not one of these outcomes (a bug: let it
 * surface). `what` names the entity or task in messages ("Task task-001").
 */
export function entityFailure(err: unknown, what: string): EntityError | undefined {
  if (err instanceof EntityError) return err;
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
    const kind = (cause?.type ? BY_FAILURE_TYPE[cause.type] : undefined) ?? 'refused';
    return new EntityError(kind, whatFailed(err), { cause: err });
  }
  if (err instanceof WorkflowNotFoundError) return new EntityError('not_found', `${what} not found`, { cause: err });
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return new EntityError('unavailable', `${what}: the call timed out or was cancelled`, { cause: err });
  }
  if (err instanceof ServiceError || grpcCode(err) !== undefined) {
    const code = grpcCode(err);
    // An update sent to a run that completed meanwhile (a deleted task's last run) is refused by the server.
    if (code === GRPC.NOT_FOUND || /already completed/i.test(String((err as Error).message))) {
      return new EntityError('not_found', `${what} not found`, { cause: err });
    }
    // The workflow task that carried the update failed (since server 1.27 the update then fails at once):
    // typically a continue-as-new that met a new event and was refused (UnhandledCommand). Nothing applied.
    if (code === GRPC.FAILED_PRECONDITION && /workflow task failure/i.test(messageAndCause(err))) {
      return new EntityError('not_applied', `${what} could not take the update just now; send it again`, { cause: err });
    }
    if (code === GRPC.RESOURCE_EXHAUSTED) return new EntityError('busy', `Temporal is busy with ${what}; try again shortly`, { cause: err });
    // A query to an entity whose task queue no worker has polled for a while (the server's
    // matching.queryPollerUnavailableWindow, 20 s): the server stops waiting for one a second before the
    // deadline. No worker is running; as the deadline itself, that is unavailability.
    if (code === GRPC.FAILED_PRECONDITION && /no poller seen/i.test(messageAndCause(err))) {
      return new EntityError('unavailable', 'Temporal is unavailable; try again shortly', { cause: err });
    }
    // A call nobody answered in time: the deadline passed here, or the server cancelled it at that deadline
    // (under load it may answer first, with its own context cancelled).
    if (code === GRPC.UNAVAILABLE || code === GRPC.DEADLINE_EXCEEDED || code === GRPC.CANCELLED) {
      return new EntityError('unavailable', 'Temporal is unavailable; try again shortly', { cause: err });
    }
  }
  return undefined;
}

/**
 * What failed, in words: the update's own failure, or the call inside it that failed and why (Temporal's
 * wrappers alone, "Workflow Update failed" or "Activity task failed", say neither).
 */
export function whatFailed(err: WorkflowUpdateFailedError): string {
  const cause = err.cause;
  if (cause === undefined) return err.message;
  let root: Error = cause;
  while (root.cause instanceof Error) root = root.cause;
  if (cause instanceof ActivityFailure) return `Activity ${cause.activityType} failed: ${root.message}`;
  if (cause instanceof ChildWorkflowFailure) return `Child workflow ${cause.workflowType} (${cause.execution.workflowId}) failed: ${root.message}`;
  return root.message || cause.message;
}

/** Rethrows `err` as an EntityError when it is one of the outcomes above, else as it is. */
export function rethrowAsEntityError(err: unknown, what: string): never {
  throw entityFailure(err, what) ?? err;
}

/**
 * Runs `call` again while it fails with `not_applied`, up to `budgetMs`: the entity's run was ending or its
 * workflow task was interrupted, and the next attempt lands (in the next run). `call` must send the same
 * update id each time, so a change that did apply after all is not applied twice. Other failures are
 * thrown at once.
 */
export async function retryUntilApplied<T>(call: () => Promise<T>, what: string, budgetMs: number, signal?: AbortSignal): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
    try {
      return await call();
    } catch (err) {
      const failure = entityFailure(err, what) ?? err;
      if (!(failure instanceof EntityError) || failure.kind !== 'not_applied' || Date.now() + delay > deadline || signal?.aborted) throw failure;
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}
