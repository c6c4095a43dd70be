/**
 * `npm run mcp`: the service's MCP server for desktop clients that start their servers as programs (stdio).
 * It relays every message, both ways, to a running service's `/mcp` with the user's token, so the tools,
 * approvals (elicitation) and task subscriptions are the service's own. docs/mcp.md has client snippets.
 *
 *   TASK_AGENT_URL    the service (default http://localhost:8000)
 *   TASK_AGENT_TOKEN  the bearer token to act with (a user's JWT, or API_TOKEN); none for an open service
 *
 * stdout carries the protocol only; what this says goes to stderr.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { isJSONRPCRequest, isJSONRPCResultResponse, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

const base = process.env.TASK_AGENT_URL ?? 'http://localhost:8000';
const token = process.env.TASK_AGENT_TOKEN?.trim();

let url: URL;
try {
  url = new URL('/mcp', base);
} catch {
  process.stderr.write(`TASK_AGENT_URL is not a URL: ${base}\n`);
  process.exit(2);
}

const local = new StdioServerTransport();
const remote = new StreamableHTTPClientTransport(url, { requestInit: { headers: token ? { authorization: `Bearer ${token}` } : {} } });
/** The id of the client's initialize request: its answer names the protocol version the service speaks. */
let initializeId: string | number | undefined;

local.onmessage = (message: JSONRPCMessage) => {
  if (isJSONRPCRequest(message) && message.method === 'initialize') initializeId = message.id;
  remote.send(message).catch((err: unknown) => {
    const reason = err instanceof Error ? err.message : String(err);
    process.stderr.write(`task-agent MCP: ${url.href}: ${reason}\n`);
    // A request gets an answer even when the service cannot be reached, so the client does not wait forever.
    if (isJSONRPCRequest(message)) void local.send({ jsonrpc: '2.0', id: message.id, error: { code: -32000, message: `task-agent at ${base}: ${reason}` } });
  });
};
remote.onmessage = (message: JSONRPCMessage) => {
  if (isJSONRPCResultResponse(message) && message.id === initializeId) {
    const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
    if (typeof version === 'string') remote.setProtocolVersion(version);
  }
  void local.send(message);
};
remote.onerror = (err) => process.stderr.write(`task-agent MCP: ${err.message}\n`);
const stop = () => {
  void remote.terminateSession().catch(() => undefined).finally(() => process.exit(0));
};
local.onclose = stop;
process.stdin.on('end', stop);

async function main(): Promise<void> {
  await remote.start();
  await local.start();
  process.stderr.write(`task-agent MCP: relaying stdio to ${url.href}${token ? '' : ' (no TASK_AGENT_TOKEN: for an open service only)'}\n`);
}
void main();
