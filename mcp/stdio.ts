/**
 * `npm run mcp`: the service's MCP server for desktop clients that start their servers as programs (stdio).
 * It relays every message, both ways, to a running service's `/mcp` with the user's token, so the tools,
 * approvals (elicitation) and task subscriptions are the service's own. docs/mcp.md has client snippets.
 *
 *   TASK_AGENT_URL    the service (default http://localhost:8000)
 *   TASK_AGENT_TOKEN  the bearer token to act with (a user's JWT, or API_TOKEN); none for an open service
 *
 * When the service no longer knows the session (it restarted, or the session idled out), the relay starts a new
 * one as the client started its first and subscribes to the same tasks again, so the desktop client goes on.
 * stdout carries the protocol only; what this says goes to stderr.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { isJSONRPCRequest, isJSONRPCResultResponse, type JSONRPCMessage, type JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';

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
/** What started the session (the client's initialize and initialized) and the tasks it follows: what a new session is given again. */
let initialize: JSONRPCRequest | undefined;
let initialized: JSONRPCMessage | undefined;
const subscriptions = new Set<string>();
/** Ids of requests the relay itself sent (a new session's initialize and subscriptions): their answers are not the client's. */
const own = new Set<string | number>();
let remote = connect();

function connect(): StreamableHTTPClientTransport {
  const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers: token ? { authorization: `Bearer ${token}` } : {} } });
  transport.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCResultResponse(message) && initialize !== undefined && message.id === initialize.id) {
      // The answer to initialize names the protocol version the service speaks: later requests carry it.
      const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
      if (typeof version === 'string') transport.setProtocolVersion(version);
    }
    if ('id' in message && message.id !== undefined && own.delete(message.id)) return;
    void local.send(message);
  };
  transport.onerror = (err) => process.stderr.write(`task-agent MCP: ${err.message}\n`);
  return transport;
}

/** The service no longer knows the session (it restarted, or the session idled out): answered 404. */
const sessionGone = (err: unknown) => err instanceof Error && err.message.startsWith('Streamable HTTP error') && (err as { code?: unknown }).code === 404;

/** Starts a new session as the client started its first, and follows the same tasks again. */
async function renew(): Promise<void> {
  process.stderr.write('task-agent MCP: the service ended the session; starting a new one\n');
  await remote.close().catch(() => undefined);
  remote = connect();
  await remote.start();
  own.add(initialize!.id);
  await remote.send(initialize!);
  if (initialized) await remote.send(initialized);
  let n = 0;
  for (const uri of subscriptions) {
    const id = `task-agent-relay-${++n}`;
    own.add(id);
    await remote.send({ jsonrpc: '2.0', id, method: 'resources/subscribe', params: { uri } });
  }
}

async function relay(message: JSONRPCMessage): Promise<void> {
  try {
    await remote.send(message);
  } catch (err) {
    if (!sessionGone(err) || initialize === undefined) throw err;
    await renew();
    await remote.send(message);
  }
}

local.onmessage = (message: JSONRPCMessage) => {
  if (isJSONRPCRequest(message)) {
    if (message.method === 'initialize') initialize = message;
    const uri = (message.params as { uri?: unknown } | undefined)?.uri;
    if (message.method === 'resources/subscribe' && typeof uri === 'string') subscriptions.add(uri);
    if (message.method === 'resources/unsubscribe' && typeof uri === 'string') subscriptions.delete(uri);
  } else if ('method' in message && message.method === 'notifications/initialized') {
    initialized = message;
  }
  relay(message).catch((err: unknown) => {
    const reason = err instanceof Error ? err.message : String(err);
    process.stderr.write(`task-agent MCP: ${url.href}: ${reason}\n`);
    // A request gets an answer even when the service cannot be reached, so the client does not wait forever.
    if (isJSONRPCRequest(message)) void local.send({ jsonrpc: '2.0', id: message.id, error: { code: -32000, message: `task-agent at ${base}: ${reason}` } });
  });
};
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
