/**
 * The MCP servers of AGENT_MCP_SERVERS, as the worker reaches them (the official SDK's client over Streamable
 * HTTP): one connection per server, made when first needed and made again after it fails; each server's tool
 * list cached until the server says it changed (`notifications/tools/list_changed`). The agent's activities
 * (activities/mcp-tools.ts) list and call through it; a server that cannot be reached is reported, never thrown
 * at the turn.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { McpServerSetting } from '../common/config';
import { IDEMPOTENCY_META_KEY, type RemoteToolInfo, type RemoteToolList } from './shared';

/** What one turn offers at most, so the model's request and the turn's state stay bounded. */
export const REMOTE_TOOLS_MAX = 32;
const DESCRIPTION_MAX_CHARS = 1_000;
const PARAMETERS_MAX_CHARS = 8_000;

/** A connection failed or timed out: the server is unreachable (the call may be tried again). */
export class McpServerUnavailable extends Error {
  override name = 'McpServerUnavailable';
}

interface Connection {
  client: Client;
  transport: StreamableHTTPClientTransport;
  tools?: Tool[];
}

export class RemoteMcpServers {
  private readonly connections = new Map<string, Promise<Connection>>();

  /** `callMs`: one tool call at most (as a model call); `listMs`: connecting, and listing, each; so a server that hangs holds a turn no longer. */
  constructor(
    readonly servers: McpServerSetting[],
    private readonly timeouts: { callMs: number; listMs: number },
  ) {}

  /** Every server's tools, each server asked at once. */
  async list(): Promise<RemoteToolList> {
    const results = await Promise.all(
      this.servers.map(async (server): Promise<{ server: McpServerSetting; tools: Tool[] } | { server: McpServerSetting; error: string }> => {
        try {
          return { server, tools: await this.toolsOf(server) };
        } catch (err) {
          return { server, error: brief(err) };
        }
      }),
    );
    const list: RemoteToolList = { tools: [], unavailable: [] };
    for (const result of results) {
      if ('error' in result) {
        list.unavailable.push({ server: result.server.name, error: result.error });
        continue;
      }
      for (const tool of result.tools) {
        if (list.tools.length >= REMOTE_TOOLS_MAX) break;
        const info = describe(result.server, tool);
        if (info) list.tools.push(info);
      }
    }
    return list;
  }

  /**
   * Calls a tool; a server that cannot be reached throws McpServerUnavailable, what it answers (an error too)
   * comes back as it is. `key` goes along as the call's idempotency key.
   */
  async call(serverName: string, tool: string, args: Record<string, unknown>, key: string | undefined): Promise<CallToolResult> {
    const server = this.servers.find((s) => s.name === serverName);
    if (server === undefined) throw new Error(`No MCP server named ${serverName} is configured (AGENT_MCP_SERVERS)`);
    const connecting = this.connection(server);
    const { client } = await connecting;
    try {
      return (await client.callTool({ name: tool, arguments: args, ...(key ? { _meta: { [IDEMPOTENCY_META_KEY]: key } } : {}) }, undefined, {
        timeout: this.timeouts.callMs,
      })) as CallToolResult;
    } catch (err) {
      // A protocol error about the call itself (no such tool, bad arguments) is the server's answer; anything
      // else (a connection lost, a timeout) means this connection may be broken: the next call makes a new one.
      if (isProtocolAnswer(err)) throw err;
      this.forget(server.name, connecting);
      throw new McpServerUnavailable(`MCP server ${server.name} did not answer (${brief(err)})`);
    }
  }

  async close(): Promise<void> {
    const open = [...this.connections.entries()];
    this.connections.clear();
    await Promise.all(open.map(([, connecting]) => connecting.then(end, () => undefined)));
  }

  /** The server's tools, from the cache or asked; a connection that fails to list is replaced once. */
  private async toolsOf(server: McpServerSetting, again = true): Promise<Tool[]> {
    const connecting = this.connection(server);
    const connection = await connecting;
    if (connection.tools !== undefined) return connection.tools;
    try {
      connection.tools = (await connection.client.listTools(undefined, { timeout: this.timeouts.listMs })).tools;
      return connection.tools;
    } catch (err) {
      this.forget(server.name, connecting);
      // A connection from before the server restarted: a new one may list at once.
      if (again && !isProtocolAnswer(err)) return this.toolsOf(server, false);
      throw err;
    }
  }

  private connection(server: McpServerSetting): Promise<Connection> {
    let connecting = this.connections.get(server.name);
    if (connecting === undefined) {
      const made = this.connect(server);
      connecting = made;
      this.connections.set(server.name, made);
      made.then(
        (connection) => (connection.client.onclose = () => this.forget(server.name, made)),
        () => this.forget(server.name, made),
      );
    }
    return connecting;
  }

  private async connect(server: McpServerSetting): Promise<Connection> {
    const connection = {} as Connection;
    connection.client = new Client(
      { name: 'task-agent', version: '0.1.0' },
      // The server says when its tools change: the next turn lists them again.
      { listChanged: { tools: { autoRefresh: false, onChanged: () => void (connection.tools = undefined) } } },
    );
    connection.transport = new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: server.headers ?? {} } });
    try {
      await connection.client.connect(connection.transport, { timeout: this.timeouts.listMs });
    } catch (err) {
      await connection.client.close().catch(() => undefined);
      // Neither the URL nor what the server said: the URL may carry a token, and this message reaches the model.
      throw new McpServerUnavailable(`MCP server ${server.name} cannot be reached (${brief(err)})`);
    }
    return connection;
  }

  /** Forgets this connection (not a newer one made meanwhile) and ends it. */
  private forget(name: string, connecting: Promise<Connection>): void {
    if (this.connections.get(name) !== connecting) return;
    this.connections.delete(name);
    void connecting.then(end, () => undefined);
  }
}

/** Ends a connection: its session at the server (a DELETE), then the client. */
async function end(connection: Connection): Promise<void> {
  await connection.transport.terminateSession().catch(() => undefined);
  await connection.client.close().catch(() => undefined);
}

/**
 * Why a server could not be reached, in words of our own (an HTTP status, a connection error code): never
 * what the server wrote, which this may pass to the model.
 */
function brief(err: unknown): string {
  if (err instanceof McpServerUnavailable) return /\(([^)]*)\)$/.exec(err.message)?.[1] ?? 'unreachable';
  const { code, cause } = err as { code?: unknown; cause?: { code?: unknown } };
  if (err instanceof Error && err.message.startsWith('Streamable HTTP error') && typeof code === 'number') return `HTTP ${code}`;
  if (typeof cause?.code === 'string') return cause.code;
  if (code === -32001) return 'no answer in time';
  if (code === -32000) return 'connection closed';
  return err instanceof Error && err.name !== 'Error' ? err.name : 'unreachable';
}

/** A tool as a turn offers it, or undefined when it cannot be offered (a schema too large to send). */
function describe(server: McpServerSetting, tool: Tool): RemoteToolInfo | undefined {
  const parameters = tool.inputSchema ?? { type: 'object' };
  if (JSON.stringify(parameters).length > PARAMETERS_MAX_CHARS) return undefined;
  const readOnly = tool.annotations?.readOnlyHint === true;
  const name = `${server.name}__${tool.name}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  const text = tool.description ?? tool.title ?? tool.name;
  return {
    name,
    server: server.name,
    tool: tool.name,
    description: `[MCP server ${server.name}] ${text.length > DESCRIPTION_MAX_CHARS ? `${text.slice(0, DESCRIPTION_MAX_CHARS)}…` : text}`,
    parameters,
    read_only: readOnly,
    needs_approval: server.approval === 'always' || (server.approval === 'writes' && !readOnly),
    trusted: server.trusted,
  };
}


/** The SDK's own codes for no answer: the connection closed, the request timed out. */
const NO_ANSWER = new Set([-32000, -32001]);

/** A JSON-RPC error the server answered with (McpError carries its code), as opposed to no answer. */
function isProtocolAnswer(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return err instanceof Error && err.name === 'McpError' && typeof code === 'number' && !NO_ANSWER.has(code);
}
