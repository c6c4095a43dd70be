/**
 * A task entity's second outbox lane: what its project must hear of it. After each change of a task that
 * belongs to a project, the entity puts the task's new columns here, in the same activation as the change;
 * a loop sends them to the project entity with the `tellProject` activity, which retries until the project
 * has them (or is gone). Pending notices are carried over by continue-as-new, so nothing is lost to a
 * restart, a Temporal outage or a closing run; and the project keeps only what is newer than what it holds
 * (entities/project/rollup.ts), so a notice sent twice, or late, changes nothing.
 *
 * Only the newest notice per project waits: a burst of changes (a hand-over's three steps, a deadline
 * moved twice) is one signal, and the lane holds at most two notices (the project left, the one joined).
 */
import { condition, proxyActivities } from '@temporalio/workflow';
import type { Task } from '../../common/schemas';
import type { ProjectLaneActivities } from '../../activities/projects';
import type { TaskNotice } from '../project/messages';

const { tellProject } = proxyActivities<ProjectLaneActivities>({
  startToCloseTimeout: '10 seconds',
  // No attempt limit: the project hears of every change eventually, however long Temporal is away.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** As the event outbox's: a send in flight may finish this long before the run continues as new. */
const STOP_GRACE = '2 seconds';

/** What the project keeps of `task`; `left`: the task is no longer its (left it, or deleted), at `at` (default: its last change). */
export function noticeOf(task: Task, projectId: string, left = false, at = Date.parse(task.updated_at)): TaskNotice {
  const createdAt = Date.parse(task.created_at);
  return {
    project_id: projectId,
    task_id: task.task_id,
    columns: left ? null : [task.status, task.deadline === null ? null : Date.parse(task.deadline), createdAt, task.version],
    created_at: createdAt,
    version: task.version,
    at,
  };
}

export class ProjectLane {
  private readonly pending: TaskNotice[];

  constructor(pending: TaskNotice[] = []) {
    this.pending = [...pending];
  }

  /** Queues the notice; a newer one for the same project replaces the one still waiting. */
  tell(notice: TaskNotice): void {
    const waiting = this.pending.findIndex((n) => n.project_id === notice.project_id);
    if (waiting >= 0) this.pending[waiting] = notice;
    else this.pending.push(notice);
  }

  /** What a change from `before` to `next` must tell: the project left, and the project it is in now. */
  tellChange(before: Task | null, next: Task): void {
    if (before?.project_id !== undefined && before.project_id !== next.project_id) this.tell(noticeOf(next, before.project_id, true));
    if (next.project_id !== undefined) this.tell(noticeOf(next, next.project_id));
  }

  get isEmpty(): boolean {
    return this.pending.length === 0;
  }

  snapshot(): TaskNotice[] {
    return [...this.pending];
  }

  /** Sends until `stop()` holds; a notice still in flight then stays pending and goes with the next run. */
  async run(stop: () => boolean): Promise<void> {
    const stopped = condition(stop);
    for (;;) {
      await condition(() => this.pending.length > 0 || stop());
      if (stop()) return;
      const notice = this.pending[0]!;
      const sending = tellProject.executeWithOptions({ summary: `Tell project ${notice.project_id}` }, [notice]);
      let settled = false;
      const ended = sending.then(
        () => (settled = true),
        () => (settled = true),
      );
      const first = await Promise.race([ended.then(() => 'sent' as const), stopped.then(() => 'stop' as const)]);
      if (first === 'stop' && !(await condition(() => settled, STOP_GRACE))) {
        sending.catch(() => undefined);
        return;
      }
      await sending;
      // Sent: done with it, unless a newer notice for that project took its place meanwhile.
      const index = this.pending.indexOf(notice);
      if (index >= 0) this.pending.splice(index, 1);
    }
  }
}
