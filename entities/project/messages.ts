/**
 * The project entity's messages (entities/project/workflow.ts handles them, clients/project-entity.ts sends
 * them). Every change is an update; the tasks tell the project how they stand with a signal. These names are
 * the CLI interface too, e.g.
 *   temporal workflow query --workflow-id project-entity-website-relaunch --name getProject
 *
 * Importable from anywhere: names and shapes only.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Project, ProjectView, TaskStatus } from '../../common/schemas';
import type { CloudEvent } from '../../workflows/shared/cloudevents';

export const PROJECT_ENTITY_WORKFLOW_TYPE = 'ProjectEntityWorkflow';

/** At most this many tasks in one project: its state (about 50 bytes a task) stays well inside Temporal's 2 MB payload limit. */
export const PROJECT_MAX_TASKS = 10_000;
/** At most this many task ids in one addTasks or removeTasks. */
export const PROJECT_TASK_IDS_PER_CALL = 1_000;

/**
 * What a project keeps of each task, compactly (10,000 of them fit in half a megabyte): the status, the
 * deadline, and the task's (created_at, version) that orders what it is told. Times are epoch ms.
 */
export type TaskColumns = [status: TaskStatus, deadline: number | null, createdAt: number, version: number];

/**
 * A task telling its project how it stands (`taskChanged`), sent by the task entity's project lane
 * (entities/task/project-lane.ts) after every change, at least once. `columns` null: the task left the
 * project or was deleted. The project applies a notice only when it is newer than what it holds, by
 * (created_at, version, left last), so a repeat or a late one changes nothing.
 */
export interface TaskNotice {
  project_id: string;
  task_id: string;
  columns: TaskColumns | null;
  created_at: number;
  version: number;
  /**
   * When the task made the change (its `updated_at`, or the deletion's time), epoch ms: a departure from before
   * the task joined the project (again) is stale. Absent in notices sent before it was.
   */
  at?: number;
}

/** Who makes a change (the API caller's `sub`, `api`, the chat user an agent acts for); unset: `cli`. */
type Attributed<T> = T & { updated_by?: string };

export interface CreateProjectInput {
  name: string;
  description: string | null;
  owner: string;
  /** Tasks that belong to it from the start (the setup workflow's): each counts as unreported until it tells. */
  task_ids?: string[];
}
export interface UpdateProjectInput {
  name?: string;
  description?: string | null;
  owner?: string;
  expected_version?: number;
}
export interface ProjectTaskIdsInput {
  task_ids: string[];
}
export interface DeleteProjectInput {
  expected_version?: number;
}

/** Creates the project (started with the entity): the same project again changes nothing, another is refused. */
export const createProjectUpdate = defineUpdate<Project, [Attributed<CreateProjectInput>], 'createProject'>('createProject');
export const updateProjectUpdate = defineUpdate<Project, [Attributed<UpdateProjectInput>], 'updateProject'>('updateProject');
/** Makes tasks members (their columns follow when they tell); refused as a whole past PROJECT_MAX_TASKS. */
export const addTasksUpdate = defineUpdate<Project, [Attributed<ProjectTaskIdsInput>], 'addTasks'>('addTasks');
export const removeTasksUpdate = defineUpdate<Project, [Attributed<ProjectTaskIdsInput>], 'removeTasks'>('removeTasks');
/**
 * Deletes the project: getProject answers null at once; the entity then detaches its tasks (they stay, as
 * standalone tasks: nobody's work goes with a project) and ends.
 */
export const deleteProjectUpdate = defineUpdate<void, [Attributed<DeleteProjectInput>], 'deleteProject'>('deleteProject');

export const taskChangedSignal = defineSignal<[TaskNotice], 'taskChanged'>('taskChanged');

export interface GetProjectInput {
  tasks_offset?: number;
  tasks_limit?: number;
  status?: TaskStatus;
}
/** The project with its roll-up and a page of its tasks, or null while there is none (not created, or deleted). */
export const getProjectQuery = defineQuery<ProjectView | null, [GetProjectInput?], 'getProject'>('getProject');

export interface ProjectEntityInput {
  project_id: string;
  project?: Project | null;
  /** Members in the order they joined, with their columns (null until the task tells). */
  tasks?: [string, TaskColumns | null][];
  outbox?: CloudEvent[];
  /** Set once deleted: the members still to detach. */
  detaching?: string[];
  /** When each member that has not reported yet joined (epoch ms): older departures do not remove it. */
  joined?: [string, number][];
  /** When the project last heard from a task (the roll-up's `as_of`). */
  last_notice_at?: number;
  /** Continue-as-new once history has this many events (default: when Temporal suggests it). */
  history_limit?: number;
}

export type ProjectEntityWorkflowSignature = (input: ProjectEntityInput) => Promise<void>;

/** Failure types of the project's updates (clients/errors.ts maps them). */
export type ProjectFailureType = 'ProjectRuleError' | 'ProjectNotFound' | 'VersionConflict' | 'EntityClosing';
