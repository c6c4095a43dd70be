/**
 * What workflows need to know of the worker's configuration (timeouts, the agent's limits): each activity's
 * start-to-close timeout derives from the setting of what it waits on, so a longer NOTIFY_TIMEOUT_MS or
 * LLM_TIMEOUT_MS is never cut short by a fixed timeout in the workflow. Workflows ask the worker for these
 * once per run (the `activitySettings` local activity, activities/settings.ts): the answer is recorded in
 * history, so replay sees the same values and workflow code reads no environment. Workflow-safe: no
 * runtime imports.
 */
export interface ActivitySettings {
  /** Start-to-close of one notification attempt: NOTIFY_TIMEOUT_MS and a grace period. */
  notify_timeout_ms: number;
  /** Start-to-close of one model call: LLM_TIMEOUT_MS and a grace period. */
  model_timeout_ms: number;
  /** Whether a model is configured (LLM_BASE_URL and LLM_MODEL); without one the chat answers by its rules. */
  model: boolean;
  /** Model calls per message at most (AGENT_MAX_STEPS). */
  agent_max_steps: number;
  /** How long a change waits for the user's approval (AGENT_APPROVAL_TIMEOUT). */
  approval_timeout_ms: number;
  /** The MCP servers whose tools the agent offers (AGENT_MCP_SERVERS' names); absent in runs from before. */
  mcp_servers?: string[];
  /**
   * Notify through the notifications app's Nexus endpoint (NOTIFY_VIA=nexus), waiting at most timeout_ms for
   * it; absent: notify with this worker's own activity (NOTIFY_VIA=activity, and runs from before).
   */
  notify_nexus?: { endpoint: string; timeout_ms: number };
}

/**
 * Beyond the call's own timeout, the time an attempt gets before Temporal counts it as lost: the call's
 * own timeout answers first, as a clear failure.
 */
export const ACTIVITY_TIMEOUT_GRACE_MS = 5_000;

/**
 * The heartbeat timeout of activities that wait on something slow (activities/heartbeat.ts): a worker that
 * dies mid-call is noticed within it, however long the call itself may take.
 */
export const HEARTBEAT_TIMEOUT_MS = 5_000;
