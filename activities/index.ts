/**
 * Every activity the worker registers, built from its dependencies. Workflows import only the type.
 */
import { createEventActivities, type EventActivityDeps } from './events';
import { createNotifyActivities, type NotifyDeps } from './notify';
import { createReplyActivities, type LlmSettings } from './reply';
import { createTaskEntityActivities, type TaskEntityActivityDeps } from './task-entity';
import { validateTask } from './validate';

export type ActivityDeps = TaskEntityActivityDeps & NotifyDeps & EventActivityDeps & { llm?: LlmSettings };

export function createActivities(deps: ActivityDeps) {
  return {
    validateTask,
    ...createTaskEntityActivities(deps),
    ...createNotifyActivities(deps),
    ...createEventActivities(deps),
    ...createReplyActivities(deps.llm),
  };
}

export type Activities = ReturnType<typeof createActivities>;
