/**
 * Every activity the worker registers, built from its dependencies. Workflows import only the type.
 */
import { LivePublisher } from '../stream/live-records';
import { createAgentToolActivities } from './agent-tools';
import { createMcpToolActivities } from './mcp-tools';
import type { RemoteMcpServers } from '../mcp/remote-servers';
import { createEventActivities, type EventActivityDeps } from './events';
import { createModelActivities } from './model';
import { createNotifyActivities, type NotifyDeps } from './notify';
import { createProjectActivities, type ProjectActivityDeps } from './projects';
import { createReplyActivities, type LlmSettings } from './reply';
import type { ActivitySettings } from '../workflows/shared/activity-timeouts';
import { createSettingsActivities } from './settings';
import { createTaskEntityActivities, type TaskEntityActivityDeps } from './task-entity';
import { validateTask } from './validate';

export type ActivityDeps = TaskEntityActivityDeps &
  ProjectActivityDeps &
  NotifyDeps &
  EventActivityDeps & {
    llm?: LlmSettings;
    settings: ActivitySettings;
    /** LIVE_STREAM_MAXLEN */ liveStreamMaxLength?: number;
    /** AGENT_MCP_SERVERS, connected (mcp/remote-servers.ts). */
    mcpServers?: RemoteMcpServers;
  };

export function createActivities(deps: ActivityDeps) {
  const live = new LivePublisher(deps.redis, { eventKeyPrefix: deps.eventKeyPrefix, maxLength: deps.liveStreamMaxLength ?? 20_000 });
  return {
    validateTask,
    ...createSettingsActivities(deps.settings),
    ...createTaskEntityActivities(deps),
    ...createProjectActivities(deps),
    ...createNotifyActivities(deps),
    ...createEventActivities(deps),
    ...createReplyActivities(deps.llm),
    ...createModelActivities({ llm: deps.llm, live }),
    ...createAgentToolActivities({ tasks: deps.tasks, projects: deps.projects, live }),
    ...createMcpToolActivities({ servers: deps.mcpServers, live }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
