/** The `task-events` a change of a task produces. Pure and workflow-safe. */
import type { Task } from '../../common/schemas';
import { TOPICS, cloudEvent, type CloudEvent } from '../../events/cloudevents';

export type TaskEventType = 'task.created' | 'task.assigned' | 'task.unassigned' | 'task.overdue' | 'task.completed' | 'task.deleted';

export function taskEventTypes(previous: Task | null, next: Task): TaskEventType[] {
  const types: TaskEventType[] = [];
  if (previous === null) types.push('task.created');
  if (next.assignee !== null && next.assignee !== previous?.assignee) types.push('task.assigned');
  if (next.assignee === null && previous?.assignee) types.push('task.unassigned');
  if (next.status === 'overdue' && previous?.status !== 'overdue') types.push('task.overdue');
  if (next.status === 'completed' && previous?.status !== 'completed') types.push('task.completed');
  return types;
}

export function taskEvents(previous: Task | null, next: Task, newId: () => string, deleted = false): CloudEvent[] {
  const types: TaskEventType[] = deleted ? ['task.deleted'] : taskEventTypes(previous, next);
  return types.map((type) =>
    cloudEvent({
      id: newId(),
      source: `/task-agent/task-entity-${next.task_id}`,
      type,
      topic: TOPICS.tasks,
      time: next.updated_at,
      data: { task_id: next.task_id, task: next, previous_status: previous?.status ?? null },
    }),
  );
}
