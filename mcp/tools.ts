/**
 * The agent's tools as an MCP client is shown them: the same names, descriptions and JSON schemas the model
 * is given (entities/chat/agent/tools.ts is the one source), with the MCP annotations their definitions
 * state. A reading tool is read-only; a changing one may wait for the user's approval (mcp/tool-calls.ts).
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { TOOLS, toolSchemas, type ToolName } from '../entities/chat/agent/tools';

const APPROVAL_NOTE =
  ' A change the chat would ask about first (deleting, reassigning a task someone else has) waits for the user\'s approval: asked here when the client supports elicitation, otherwise answered with the approval id to decide in the chat or the web page.';

export function mcpTools(): Tool[] {
  return toolSchemas().map(({ function: tool }) => {
    const definition = TOOLS[tool.name as ToolName];
    const hints = definition.hints ?? { destructive: true, idempotent: false };
    return {
      name: tool.name,
      description: definition.changes ? tool.description + APPROVAL_NOTE : tool.description,
      inputSchema: tool.parameters as Tool['inputSchema'],
      annotations: definition.changes
        ? { readOnlyHint: false, destructiveHint: hints.destructive, idempotentHint: hints.idempotent, openWorldHint: hints.openWorld ?? false }
        : { readOnlyHint: true, openWorldHint: false },
    };
  });
}
