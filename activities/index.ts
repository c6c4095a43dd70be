/**
 * Every activity the worker registers, built from its dependencies. Workflows import only the type.
 */
import { createNotifyActivities, type NotifyDeps } from './notify';
import { createTaskEntityActivities, type TaskEntityActivityDeps } from './task-entity';
import { validateTask } from './validate';

export type ActivityDeps = TaskEntityActivityDeps & NotifyDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    validateTask,
    ...createTaskEntityActivities(deps),
    ...createNotifyActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
