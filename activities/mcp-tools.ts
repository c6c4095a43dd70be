/**
 * The agent's MCP tools as activities (mcp/remote-servers.ts reaches the servers of AGENT_MCP_SERVERS):
 *   - listMcpTools: every configured server's tools, and the servers that could not be reached (never fails);
 *   - callMcpTool: one call, with the change's update id as its idempotency key. A server that does not answer
 *     fails the attempt (Temporal tries again, as for the model); what the server answers, an error included,
 *     is the tool's result. Results are bounded, and unless the server is trusted they reach the model as text
 *     someone else wrote (so the turn asks before it changes tasks after reading them).
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { McpServerUnavailable, type RemoteMcpServers } from '../mcp/remote-servers';
import type { RemoteToolList } from '../mcp/shared';
import type { LivePublisher, LiveTurn } from '../stream/live-records';
import type { AgentToolResult } from './agent-tools';
import { heartbeating } from './heartbeat';
import { TOOL_RESULT_MAX_CHARS } from '../entities/chat/agent/prompt';

/** What one result may hold: as much as the agent's own tools' results (the model is given no more). */
const MCP_RESULT_MAX_CHARS = TOOL_RESULT_MAX_CHARS;

export interface McpToolCallInput {
  server: string;
  tool: string;
  args: Record<string, unknown>;
  /** The call's update id (chat, turn, step, call): a server that honours idempotency keys applies it once. */
  idempotency_key?: string;
  trusted: boolean;
  /** Where the call's start and end are told (stream/live-records.ts). */
  live?: LiveTurn & { call_id: string; tool: string; summary: string };
}

export function createMcpToolActivities({ servers, live }: { servers?: RemoteMcpServers; live?: LivePublisher }) {
  return {
    async listMcpTools(): Promise<RemoteToolList> {
      return servers ? heartbeating(servers.list()) : { tools: [], unavailable: [] };
    },

    async callMcpTool(input: McpToolCallInput): Promise<AgentToolResult> {
      const target = input.live;
      if (target) live?.publish({ kind: 'tool-start', ...withoutCall(target), call_id: target.call_id, tool: target.tool, input: input.args, summary: target.summary });
      const result = await heartbeating(call(input));
      if (target && live) {
        live.publish(result.ok ? { kind: 'tool-end', ...withoutCall(target), call_id: target.call_id, ok: true, output: result.content } : { kind: 'tool-end', ...withoutCall(target), call_id: target.call_id, ok: false, error: result.error });
        await live.flush();
      }
      return result;
    },
  };

  async function call(input: McpToolCallInput): Promise<AgentToolResult> {
    if (servers === undefined) return { ok: false, error: `MCP server ${input.server} is not configured on this worker` };
    let answer: CallToolResult;
    try {
      answer = await servers.call(input.server, input.tool, input.args, input.idempotency_key);
    } catch (err) {
      if (err instanceof McpServerUnavailable) throw ApplicationFailure.retryable(err.message, 'McpServerUnavailable');
      // The server refused the call (no such tool, bad arguments): its words, as any it answers with.
      return failure(input, err instanceof Error ? err.message : String(err));
    }
    const text = resultText(answer);
    if (answer.isError) return failure(input, text);
    return input.trusted
      ? { ok: true, content: { result: text } }
      : { ok: true, content: { untrusted_text: text, written_by: `MCP server ${input.server}` }, foreign_text: true };
  }

  /** A call the server answered with an error: what it wrote is its text, labelled like its results unless trusted. */
  function failure(input: McpToolCallInput, text: string): AgentToolResult {
    const what = `${input.server}: ${input.tool} failed`;
    if (input.trusted) return { ok: false, error: `${what}: ${text}` };
    return { ok: false, error: `${what} (the server's message is in detail)`, detail: { untrusted_text: text, written_by: `MCP server ${input.server}` }, foreign_text: true };
  }
}

function withoutCall({ call_id: _c, tool: _t, summary: _s, ...turn }: NonNullable<McpToolCallInput['live']>): LiveTurn {
  return turn;
}

/** A result's content as text: text blocks as they are, structured content as JSON, anything else named; bounded. */
export function resultText(result: CallToolResult): string {
  const parts = (result.content ?? []).map((block) => (block.type === 'text' ? block.text : `[${block.type}]`));
  if (parts.length === 0 && result.structuredContent !== undefined) parts.push(JSON.stringify(result.structuredContent));
  const text = parts.join('\n');
  return text.length > MCP_RESULT_MAX_CHARS ? `${text.slice(0, MCP_RESULT_MAX_CHARS)}… (${text.length - MCP_RESULT_MAX_CHARS} more characters not shown)` : text;
}
