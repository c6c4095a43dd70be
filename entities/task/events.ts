/** The `task-events` a change of a task produces. Pure and workflow-safe. */
import type { Task } from '../../common/schemas';
import { TOPICS, cloudEvent, type CloudEvent } from '../../workflows/shared/cloudevents';

export type TaskEventType = 'task.created' | 'task.assigned' | 'task.unassigned' | 'task.overdue' | 'task.completed' | 'task.updated' | 'task.deleted';

export function taskEventTypes(previous: Task | null, next: Task): TaskEventType[] {
  const types: TaskEventType[] = [];
  if (previous === null) types.push('task.created');
  if (next.assignee !== null && next.assignee !== previous?.assignee) types.push('task.assigned');
  if (next.assignee === null && previous?.assignee) types.push('task.unassigned');
  if (next.status === 'overdue' && previous?.status !== 'overdue') types.push('task.overdue');
  if (next.status === 'completed' && previous?.status !== 'completed') types.push('task.completed');
  return types;
}

/** `previous_assignee`: who had it before, so that whoever a change takes the task from hears of it too. */
const taskEvent = (type: TaskEventType, task: Task, previous: Pick<Task, 'status' | 'assignee'> | null, time: string, id: string): CloudEvent =>
  cloudEvent({
    id,
    source: `/task-agent/task-entity-${task.task_id}`,
    type,
    topic: TOPICS.tasks,
    time,
    data: { task_id: task.task_id, task, previous_status: previous?.status ?? null, previous_assignee: previous?.assignee ?? null },
  });

/** The events of a change from `previous` to `next`, timed at the change. */
export function taskEvents(previous: Task | null, next: Task, newId: () => string): CloudEvent[] {
  return taskEventTypes(previous, next).map((type) => taskEvent(type, next, previous, next.updated_at, newId()));
}

/**
 * `task.updated`: a change none of the other types names (a status such as `in_progress`, a new deadline),
 * so that a reader following a task (the chat's event stream, the web page) sees every change.
 */
export function taskUpdatedEvent(previous: Task, next: Task, newId: () => string): CloudEvent {
  return taskEvent('task.updated', next, previous, next.updated_at, newId());
}

/** The event of a deletion, timed at the deletion (the task itself no longer changes). */
export function taskDeletedEvent(task: Task, deletedAt: string, newId: () => string): CloudEvent {
  return taskEvent('task.deleted', task, task, deletedAt, newId());
}
