/**
 * What the MCP parts share with each other and with the agent's workflow code: names and plain data shapes
 * only (no imports), so the chat entity can keep a turn's MCP tools without loading any of MCP.
 */

/** `_meta` key of a tools/call's idempotency key: the server honours it (mcp/server.ts), the agent sends it (mcp/remote-servers.ts). */
export const IDEMPOTENCY_META_KEY = 'task-agent/idempotency-key';

/** One tool of an MCP server of AGENT_MCP_SERVERS, as a turn offers it to the model (kept in the turn). */
export interface RemoteToolInfo {
  /** What the model calls it: `{server}__{tool}`, within the 64 characters a function name may have. */
  name: string;
  server: string;
  tool: string;
  description: string;
  parameters: object;
  read_only: boolean;
  /** Whether a call waits for the user's approval (the server's `approval` setting). */
  needs_approval: boolean;
  /** Whether its results reach the model as the user's own text (the server's `trusted` setting). */
  trusted: boolean;
}

export interface RemoteToolList {
  tools: RemoteToolInfo[];
  /** Servers whose tools are not offered this turn, and why. */
  unavailable: { server: string; error: string }[];
}
