/**
 * A project's tasks as it keeps them, and the roll-up it answers from them. Pure and workflow-safe: the
 * entity applies what its tasks tell it here, tests call these directly.
 *
 * The members are a Map in the order they joined, each with the task's columns once it has told the project
 * (null before). The roll-up is computed when asked: a pass over at most PROJECT_MAX_TASKS small arrays, a
 * fraction of a millisecond, where keeping running counts would have to be carried and could drift.
 */
import type { ProjectRollup, ProjectTaskRow, TaskStatus } from '../../common/schemas';
import type { TaskColumns, TaskNotice } from './messages';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Whether `notice` is newer than the columns held: by created_at (a task created again is another), then version, then a departure last. */
export function isNewer(held: TaskColumns | null, notice: Pick<TaskNotice, 'columns' | 'created_at' | 'version'>): boolean {
  if (held === null) return true;
  const [, , createdAt, version] = held;
  if (notice.created_at !== createdAt) return notice.created_at > createdAt;
  if (notice.version !== version) return notice.version > version;
  return notice.columns === null;
}

export type NoticeOutcome = 'applied' | 'left' | 'stale' | 'not_a_member';

/**
 * Applies a task's notice to the members: its new columns, or, when it left the project or was deleted,
 * its removal. A notice of a task that is not a member (removed from the project meanwhile) changes nothing.
 * `joined`: when each unreported member joined.
 */
export function applyNotice(members: Map<string, TaskColumns | null>, notice: TaskNotice, joined = new Map<string, number>()): NoticeOutcome {
  if (!members.has(notice.task_id)) return 'not_a_member';
  if (!isNewer(members.get(notice.task_id)!, notice)) return 'stale';
  // A member that joined (again) and has not reported yet: a notice from before it joined (a departure above
  // all) is an earlier incarnation's or membership's, still on its way.
  const since = joined.get(notice.task_id);
  if (since !== undefined && notice.at !== undefined && notice.at < since) return 'stale';
  joined.delete(notice.task_id);
  if (notice.columns === null) {
    members.delete(notice.task_id);
    return 'left';
  }
  members.set(notice.task_id, notice.columns);
  return 'applied';
}

export function rollUp(members: Map<string, TaskColumns | null>, lastNoticeAt: number | null): ProjectRollup {
  const byStatus: Record<TaskStatus, number> = { pending: 0, assigned: 0, in_progress: 0, completed: 0, overdue: 0 };
  let unreported = 0;
  let next: number | null = null;
  for (const columns of members.values()) {
    if (columns === null) {
      unreported += 1;
      continue;
    }
    const [status, deadline] = columns;
    byStatus[status] += 1;
    if (deadline !== null && status !== 'completed' && status !== 'overdue' && (next === null || deadline < next)) next = deadline;
  }
  const total = members.size;
  return {
    tasks: total,
    by_status: byStatus,
    unreported,
    overdue: byStatus.overdue,
    next_deadline: iso(next),
    done_share: total === 0 ? 0 : Math.round((byStatus.completed / total) * 1000) / 1000,
    as_of: iso(lastNoticeAt),
  };
}

/** A page of the members, in the order they joined, optionally of one status. */
export function taskPage(
  members: Map<string, TaskColumns | null>,
  { offset, limit, status }: { offset: number; limit: number; status?: TaskStatus },
): { tasks: ProjectTaskRow[]; next: number | null } {
  const tasks: ProjectTaskRow[] = [];
  let index = 0;
  for (const [taskId, columns] of members) {
    if (status !== undefined && columns?.[0] !== status) continue;
    if (index++ < offset) continue;
    if (tasks.length === limit) return { tasks, next: offset + limit };
    tasks.push({ task_id: taskId, status: columns?.[0] ?? null, deadline: iso(columns?.[1] ?? null) });
  }
  return { tasks, next: null };
}

const STATUSES: readonly string[] = ['pending', 'assigned', 'in_progress', 'completed', 'overdue'];
const isTime = (value: unknown) => typeof value === 'number' && Number.isFinite(value);

/** Whether a signal's argument is a notice this entity can apply (anyone with access to the namespace can send one). */
export function isTaskNotice(value: unknown): value is TaskNotice {
  const n = value as Partial<TaskNotice> | null;
  if (typeof n !== 'object' || n === null || typeof n.task_id !== 'string' || !isTime(n.created_at) || !isTime(n.version)) return false;
  if (n.at !== undefined && !isTime(n.at)) return false;
  if (n.columns === null) return true;
  const c = n.columns;
  return Array.isArray(c) && c.length === 4 && STATUSES.includes(c[0] as string) && (c[1] === null || isTime(c[1])) && isTime(c[2]) && isTime(c[3]);
}
