/** The worker's settings that workflows ask for once per run (workflows/shared/activity-timeouts.ts says why). */
import type { Config } from '../common/config';
import { ACTIVITY_TIMEOUT_GRACE_MS, type ActivitySettings } from '../workflows/shared/activity-timeouts';

export function createSettingsActivities(settings: ActivitySettings) {
  return {
    /** A local activity: workflows call it at the start of a run. */
    async activitySettings(): Promise<ActivitySettings> {
      return settings;
    },
  };
}

/** The settings of this worker, from its configuration. */
export function activitySettingsOf(
  config: Pick<Config, 'NOTIFY_TIMEOUT_MS' | 'LLM_TIMEOUT_MS' | 'LLM_BASE_URL' | 'LLM_MODEL' | 'AGENT_MAX_STEPS' | 'AGENT_APPROVAL_TIMEOUT'> &
    Partial<Pick<Config, 'AGENT_MCP_SERVERS' | 'NOTIFY_VIA' | 'NOTIFY_NEXUS_ENDPOINT' | 'NOTIFY_NEXUS_TIMEOUT_MS'>>,
): ActivitySettings {
  return {
    notify_timeout_ms: config.NOTIFY_TIMEOUT_MS + ACTIVITY_TIMEOUT_GRACE_MS,
    model_timeout_ms: config.LLM_TIMEOUT_MS + ACTIVITY_TIMEOUT_GRACE_MS,
    model: config.LLM_BASE_URL !== undefined && config.LLM_MODEL !== undefined,
    agent_max_steps: config.AGENT_MAX_STEPS,
    approval_timeout_ms: config.AGENT_APPROVAL_TIMEOUT,
    ...(config.AGENT_MCP_SERVERS?.length ? { mcp_servers: config.AGENT_MCP_SERVERS.map((server) => server.name) } : {}),
    ...(config.NOTIFY_VIA === 'nexus' && config.NOTIFY_NEXUS_ENDPOINT
      ? { notify_nexus: { endpoint: config.NOTIFY_NEXUS_ENDPOINT, timeout_ms: config.NOTIFY_NEXUS_TIMEOUT_MS ?? 300_000 } }
      : {}),
  };
}
