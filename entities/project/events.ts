/** The `project-events` a project's changes produce. Pure and workflow-safe. */
import type { Project } from '../../common/schemas';
import { TOPICS, cloudEvent, type CloudEvent } from '../../workflows/shared/cloudevents';

export type ProjectEventType = 'project.created' | 'project.updated' | 'project.tasks_added' | 'project.tasks_removed' | 'project.deleted';

/** `task_ids`: the tasks a `tasks_added` / `tasks_removed` names (at most PROJECT_TASK_IDS_PER_CALL). */
export function projectEvent(type: ProjectEventType, project: Project, time: string, id: string, taskIds?: string[]): CloudEvent {
  return cloudEvent({
    id,
    source: `/task-agent/project-entity-${project.project_id}`,
    type,
    topic: TOPICS.projects,
    time,
    data: { project_id: project.project_id, project, ...(taskIds ? { task_ids: taskIds } : {}) },
  });
}
