/**
 * Activities of projects: the task entity's project lane telling a project how a task stands, a deleted
 * project detaching its tasks, and the steps of ProjectSetupWorkflow. Each is safe to run twice: a notice
 * applies only when newer, a detachment only to a task still in that project, a creation is put-if-absent, a
 * compensation deletes only the task as the setup created it (`expected_created_at`).
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { EntityError, entityFailure } from '../clients/errors';
import type { ProjectEntityClient } from '../clients/project-entity';
import type { TaskEntityClient } from '../clients/task-entity';
import type { CreateProjectInput, TaskNotice } from '../entities/project/messages';
import { activityCaller } from './caller';

export interface ProjectActivityDeps {
  tasks: TaskEntityClient;
  projects: ProjectEntityClient;
}

/** How many task entities a detaching batch calls at once. */
const DETACH_CONCURRENCY = 10;

/** An entity's final refusal fails the activity for good; anything else (Temporal away, a closing run) is retried. */
function asActivityFailure(err: unknown, what: string): never {
  const failure = entityFailure(err, what);
  if (failure === undefined) throw err;
  if (failure.retryable) throw ApplicationFailure.retryable(failure.message, 'EntityUnavailable');
  throw ApplicationFailure.nonRetryable(failure.message, failure.kind === 'not_found' ? 'ProjectNotFound' : 'ProjectRefused');
}

async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export function createProjectActivities({ tasks, projects }: ProjectActivityDeps) {
  return {
    /** The task entity's project lane: one notice to its project (a project that is gone needs none). */
    tellProject: async (notice: TaskNotice): Promise<void> => {
      await projects.tell(notice, { signal: Context.current().cancellationSignal });
    },

    /** A deleted project's members leave it; a task deleted or moved to another project meanwhile is left alone. */
    detachTasks: async ({ project_id, task_ids }: { project_id: string; task_ids: string[] }): Promise<void> => {
      // This call's own (run and activity): a project deleted, created again and deleted again detaches afresh.
      const { idempotencyKey } = activityCaller();
      let done = 0;
      await eachLimited(task_ids, DETACH_CONCURRENCY, async (taskId) => {
        try {
          await tasks.setProject(taskId, null, { expectedProjectId: project_id, updateId: `${idempotencyKey}/detach/${taskId}`, updatedBy: `project:${project_id}`, signal: Context.current().cancellationSignal });
        } catch (err) {
          const kind = err instanceof EntityError ? err.kind : undefined;
          if (kind !== 'not_found' && kind !== 'version_conflict') throw err;
        }
        Context.current().heartbeat(++done);
      });
    },

    /** ProjectSetupWorkflow's first step: the project with its initial tasks as members (put-if-absent). */
    createProject: async ({ project_id, updated_by, ...input }: CreateProjectInput & { project_id: string; updated_by?: string }) => {
      try {
        return await projects.create(project_id, input, { updateId: activityCaller().idempotencyKey, updatedBy: updated_by, signal: Context.current().cancellationSignal });
      } catch (err) {
        asActivityFailure(err, `Project ${project_id}`);
      }
    },

    /** A processing run's task joins its project (a member already: nothing changes). */
    addTaskToProject: async ({ project_id, task_id, updated_by }: { project_id: string; task_id: string; updated_by?: string }) => {
      try {
        await projects.addTasks(project_id, [task_id], { updateId: activityCaller().idempotencyKey, updatedBy: updated_by, signal: Context.current().cancellationSignal });
      } catch (err) {
        asActivityFailure(err, `Project ${project_id}`);
      }
    },

    /**
     * A processing run's compensation for joining: the task leaves the project again unless it is in it (its
     * hand-over set its project), so a run that never made the task leaves no member that never reports.
     */
    leaveProjectUnlessIn: async ({ project_id, task_id, updated_by }: { project_id: string; task_id: string; updated_by?: string }) => {
      const task = await tasks.get(task_id);
      if (task?.project_id === project_id) return;
      try {
        await projects.removeTasks(project_id, [task_id], { updateId: activityCaller().idempotencyKey, updatedBy: updated_by, signal: Context.current().cancellationSignal });
      } catch (err) {
        if (err instanceof EntityError && err.kind === 'not_found') return;
        asActivityFailure(err, `Project ${project_id}`);
      }
    },

    /** Whether the project exists (the setup creates only a new project, so that its compensation deletes only its own). */
    projectExists: async ({ project_id }: { project_id: string }): Promise<boolean> => (await projects.get(project_id, { tasks_limit: 0 })) !== null,

    /** Which of these task ids name a task that exists (the setup creates only new tasks, so that its compensation deletes only its own). */
    existingTasks: async ({ task_ids }: { task_ids: string[] }): Promise<string[]> => {
      const found = await Promise.all(task_ids.map(async (id) => ((await tasks.get(id)) !== null ? id : undefined)));
      return found.filter((id): id is string => id !== undefined);
    },

    /** The `created_at` of each task that exists: the incarnation a compensation may delete. */
    taskCreationTimes: async ({ task_ids }: { task_ids: string[] }): Promise<Record<string, string>> => {
      const read = await Promise.all(task_ids.map(async (id) => [id, (await tasks.get(id))?.created_at] as const));
      return Object.fromEntries(read.filter((entry): entry is readonly [string, string] => entry[1] !== undefined));
    },

    /** Compensation: deletes a task the setup created, only as it created it; one gone or created again since is left alone. */
    deleteCreatedTask: async ({ task_id, created_at, updated_by }: { task_id: string; created_at: string; updated_by?: string }): Promise<void> => {
      try {
        await tasks.delete(task_id, { expectedCreatedAt: created_at, updateId: activityCaller().idempotencyKey, updatedBy: updated_by, signal: Context.current().cancellationSignal });
      } catch (err) {
        const kind = err instanceof EntityError ? err.kind : undefined;
        if (kind === 'not_found' || kind === 'version_conflict') return;
        asActivityFailure(err, `Task ${task_id}`);
      }
    },

    /** Compensation: deletes the project the setup created (gone already: nothing to do). */
    deleteProject: async ({ project_id, updated_by }: { project_id: string; updated_by?: string }): Promise<void> => {
      try {
        await projects.delete(project_id, { updateId: activityCaller().idempotencyKey, updatedBy: updated_by, signal: Context.current().cancellationSignal });
      } catch (err) {
        if (err instanceof EntityError && err.kind === 'not_found') return;
        asActivityFailure(err, `Project ${project_id}`);
      }
    },
  };
}

export type ProjectActivities = ReturnType<typeof createProjectActivities>;
/** What the task entity's project lane calls (entities/task/project-lane.ts imports only this type). */
export type ProjectLaneActivities = Pick<ProjectActivities, 'tellProject'>;
