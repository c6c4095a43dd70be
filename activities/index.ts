/**
 * Every activity the worker registers, built from its dependencies. Workflows import only the type.
 */
import { createAgentToolActivities } from './agent-tools';
import { createEventActivities, type EventActivityDeps } from './events';
import { createModelActivities } from './model';
import { createNotifyActivities, type NotifyDeps } from './notify';
import { createReplyActivities, type LlmSettings } from './reply';
import type { ActivitySettings } from '../workflows/shared/activity-timeouts';
import { createSettingsActivities } from './settings';
import { createTaskEntityActivities, type TaskEntityActivityDeps } from './task-entity';
import { validateTask } from './validate';

export type ActivityDeps = TaskEntityActivityDeps & NotifyDeps & EventActivityDeps & { llm?: LlmSettings; settings: ActivitySettings };

export function createActivities(deps: ActivityDeps) {
  return {
    validateTask,
    ...createSettingsActivities(deps.settings),
    ...createTaskEntityActivities(deps),
    ...createNotifyActivities(deps),
    ...createEventActivities(deps),
    ...createReplyActivities(deps.llm),
    ...createModelActivities(deps.llm),
    ...createAgentToolActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
