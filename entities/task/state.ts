/**
 * The task's rules as pure functions: (state, input, now) -> new state, or a TaskRuleError naming why
 * not. The entity workflow applies them; tests call them directly. Workflow-safe: no I/O, no clock
 * (the caller passes `now`, which in a workflow is Temporal's deterministic time).
 */
import type { CreateTaskInput, SettableTaskStatus, Task, TaskStatus } from '../../common/schemas';
import type { TaskEntityFailureType } from './messages';
import type { RevertibleFields } from './update-log';

export class TaskRuleError extends Error {
  override name = 'TaskRuleError';

  /** Why, as a failure type callers can act on (see TaskEntityFailureType). */
  constructor(
    message: string,
    readonly type: TaskEntityFailureType = 'TaskRuleError',
  ) {
    super(message);
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Every change bumps `version` (the future ETag) and `updated_at`. */
function change(task: Task, patch: Partial<Task>, now: number): Task {
  return { ...task, ...patch, updated_at: iso(now), version: task.version + 1 };
}

/**
 * The caller's precondition: the task is still at the version it saw (an If-Match, an approved preview), and
 * (when given) still the task created when it saw it, not another one created under its id since.
 */
export function requireVersion(task: Task, expectedVersion: number | undefined, expectedCreatedAt?: string): void {
  if (expectedCreatedAt !== undefined && expectedCreatedAt !== task.created_at) {
    throw new TaskRuleError(`Task ${task.task_id} was deleted and created again (at ${task.created_at}) since`, 'VersionConflict');
  }
  if (expectedVersion !== undefined && expectedVersion !== task.version) {
    throw new TaskRuleError(`Task ${task.task_id} is at version ${task.version}, not ${expectedVersion}`, 'VersionConflict');
  }
}

function requireOpen(task: Task, action: string): void {
  if (task.status === 'completed') {
    throw new TaskRuleError(`Cannot ${action}: task ${task.task_id} is completed`);
  }
}

/**
 * Put-if-absent: creating a task that already exists with the same title and description changes nothing,
 * so processing a task again (after a failed run, say) goes on from its current state.
 */
export function createTask(taskId: string, existing: Task | null, input: CreateTaskInput, now: number): Task {
  if (existing !== null) {
    if (existing.title === input.title && existing.description === input.description && (input.priority ?? existing.priority) === existing.priority) {
      // Processed again for a project: it joins it, unless it is another project's (moved only on purpose).
      if (input.project_id === undefined || existing.project_id === input.project_id) return existing;
      if (existing.project_id !== undefined) {
        throw new TaskRuleError(`Task ${taskId} is in project ${existing.project_id}; move it with POST /projects/${input.project_id}/tasks`);
      }
      return change(existing, { project_id: input.project_id }, now);
    }
    throw new TaskRuleError(`Task ${taskId} already exists with a different title, description or priority`);
  }
  return {
    task_id: taskId,
    title: input.title,
    description: input.description,
    priority: input.priority ?? 1,
    status: 'pending',
    assignee: null,
    deadline: null,
    created_at: iso(now),
    updated_at: iso(now),
    version: 1,
    ...(input.project_id !== undefined ? { project_id: input.project_id } : {}),
  };
}

/**
 * Moves the task into a project, or out of its project (null); only from `expectedProjectId` when given.
 * Allowed whatever the status: a completed task still counts in its project's roll-up.
 */
export function setProject(task: Task, projectId: string | null, now: number, expectedProjectId?: string | null): Task {
  const current = task.project_id ?? null;
  if (expectedProjectId !== undefined && current !== expectedProjectId) {
    throw new TaskRuleError(`Task ${task.task_id} is in ${current === null ? 'no project' : `project ${current}`}, not ${expectedProjectId ?? 'none'}`, 'VersionConflict');
  }
  if (current === projectId) return task;
  const { project_id: _left, ...rest } = task;
  return change(projectId === null ? rest : { ...rest, project_id: projectId }, {}, now);
}

/** A task past its deadline stays overdue whatever else changes, until a new deadline is set. */
function statusAfterAssignmentChange(task: Task, assigned: boolean): TaskStatus {
  if (task.status === 'overdue') return 'overdue';
  return assigned ? 'assigned' : 'pending';
}

export function assignTask(task: Task, assignee: string, now: number, expectedVersion?: number): Task {
  requireVersion(task, expectedVersion);
  requireOpen(task, 'assign');
  return change(task, { assignee, status: statusAfterAssignmentChange(task, true) }, now);
}

/** The saga's compensation: back to `pending` with no assignee. */
export function unassignTask(task: Task, now: number): Task {
  requireOpen(task, 'unassign');
  if (task.assignee === null && task.status !== 'assigned' && task.status !== 'in_progress') return task;
  return change(task, { assignee: null, status: statusAfterAssignmentChange(task, false) }, now);
}

export function updateStatus(task: Task, status: SettableTaskStatus, now: number, expectedVersion?: number, expectedCreatedAt?: string): Task {
  requireVersion(task, expectedVersion, expectedCreatedAt);
  if (task.status === status) return task;
  requireOpen(task, `change the status to ${status}`);
  if ((status === 'assigned' || status === 'in_progress') && task.assignee === null) {
    throw new TaskRuleError(`Cannot change the status to ${status}: task ${task.task_id} has no assignee`);
  }
  return change(task, { status }, now);
}

/** Replaces any earlier deadline. An overdue task with a new deadline is back in play. */
export function setDeadline(task: Task, deadlineSeconds: number, now: number, expectedVersion?: number): Task {
  requireVersion(task, expectedVersion);
  requireOpen(task, 'set a deadline');
  const status = task.status === 'overdue' ? (task.assignee === null ? 'pending' : 'assigned') : task.status;
  return change(task, { deadline: iso(now + deadlineSeconds * 1000), status }, now);
}

/** The epoch ms at which the deadline timer must fire, or null when no timer should run. */
export function pendingDeadline(task: Task | null): number | null {
  if (task === null || task.deadline === null) return null;
  if (task.status === 'completed' || task.status === 'overdue') return null;
  return Date.parse(task.deadline);
}

/**
 * What the deadline timer does when it fires: the task is overdue only if its deadline has passed. A timer
 * of an earlier deadline can fire in the same activation that moved the deadline later.
 */
export function markOverdue(task: Task, now: number): Task {
  const due = pendingDeadline(task);
  if (due === null || now < due) return task;
  return change(task, { status: 'overdue' }, now);
}

/** markOverdue as runs recorded before it checked the deadline did it; kept so their histories replay. */
export function markOverdueUnchecked(task: Task, now: number): Task {
  return pendingDeadline(task) === null ? task : change(task, { status: 'overdue' }, now);
}

/** Puts back the fields a set of changes replaced (see planRevert in update-log.ts for when it may). */
export function revert(task: Task, to: RevertibleFields, now: number): Task {
  if (task.assignee === to.assignee && task.status === to.status && task.deadline === to.deadline) return task;
  return change(task, { ...to }, now);
}
