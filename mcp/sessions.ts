/**
 * The MCP sessions of one API process (Streamable HTTP, stateful): each is a transport and a server
 * (mcp/server.ts) under the `Mcp-Session-Id` the transport gave it. Stateful because the server speaks first
 * within them: it asks for approvals (elicitation) and tells of changed tasks (`resources/updated`).
 *
 *   - a session belongs to the subject whose token started it; anyone else naming it gets 404, as for a session
 *     that does not exist (the client then starts a new one);
 *   - a session with no request or stream open for MCP_SESSION_IDLE is closed; at MCP_MAX_SESSIONS new ones
 *     are refused with 503; one user keeps at most SESSIONS_PER_USER_MAX (a new one closes their oldest idle
 *     one, or is refused with 429), each with at most SUBSCRIPTIONS_PER_SESSION_MAX subscriptions;
 *   - sessions live in this process: with several API replicas, route by the `Mcp-Session-Id` header (sticky),
 *     or let clients start a new session where they land (docs/mcp.md);
 *   - task subscriptions are served from the task events this process follows already (stream/live-hub.ts).
 */
import { randomUUID } from 'node:crypto';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../common/logger';
import { taskIdOf } from '../stream/feed';
import type { Joined, LiveHub } from '../stream/live-hub';
import type { Principal } from '../api/access';
import type { SessionHooks } from './server';
import { taskUri } from './server';

interface Session {
  id?: string;
  subject: string;
  transport: WebStandardStreamableHTTPServerTransport;
  server?: McpServer;
  subscriptions: Set<string>;
  /** Requests and streams of the session open now; it is idle only with none. */
  open: number;
  lastUsed: number;
}

export interface McpSessionsOptions {
  build(hooks: SessionHooks): McpServer;
  hub: LiveHub;
  maxSessions: number;
  idleMs: number;
  logger: Logger;
}

/** Sessions one user keeps in one process: several clients and devices, not a way to fill the process. */
export const SESSIONS_PER_USER_MAX = 20;
export const SUBSCRIPTIONS_PER_SESSION_MAX = 1_000;

function jsonRpcError(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

export class McpSessions {
  private readonly sessions = new Map<string, Session>();
  /** Sessions by the task URI they subscribed to. */
  private readonly watchers = new Map<string, Set<Session>>();
  private joined: Promise<Joined> | undefined;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: McpSessionsOptions) {
    this.sweeper = setInterval(() => this.closeIdle(), Math.min(60_000, options.idleMs)).unref();
  }

  /** Sessions open in this process (a gauge). */
  get size(): number {
    return this.sessions.size;
  }

  /** One HTTP request to `/mcp` (POST, GET or DELETE), from a caller api/access.ts verified. */
  async handle(request: Request, principal: Principal, parsedBody?: unknown): Promise<Response> {
    const authInfo = { token: '', clientId: principal.subject, scopes: principal.admin ? ['admin'] : [], extra: { principal } };
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null) {
      const session = this.sessions.get(sessionId);
      if (session === undefined || session.subject !== principal.subject) return jsonRpcError(404, -32001, 'Session not found: start a new one with initialize');
      return this.served(session, () => session.transport.handleRequest(request, { parsedBody, authInfo }));
    }
    if (request.method !== 'POST' || !isInitializeRequest(parsedBody)) {
      return jsonRpcError(400, -32000, 'Bad Request: no Mcp-Session-Id; a session starts with an initialize request');
    }
    if (this.closed) return jsonRpcError(503, -32000, 'The service is shutting down; try again', { 'retry-after': '1' });
    if (this.sessions.size >= this.options.maxSessions) {
      return jsonRpcError(503, -32000, `This process has ${this.sessions.size} MCP sessions open, its most (MCP_MAX_SESSIONS); try again later`, { 'retry-after': '30' });
    }
    const own = [...this.sessions.values()].filter((s) => s.subject === principal.subject);
    if (own.length >= SESSIONS_PER_USER_MAX) {
      const oldestIdle = own.filter((s) => s.open === 0).sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (oldestIdle === undefined) return jsonRpcError(429, -32000, `You have ${own.length} MCP sessions in use, the most one user may; end one first`, { 'retry-after': '30' });
      this.end(oldestIdle);
    }
    const session: Session = { subject: principal.subject, subscriptions: new Set(), open: 0, lastUsed: Date.now() } as Session;
    session.transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        session.id = id;
        // Started while the process began to stop: ended at once, as the others were.
        if (this.closed) void session.server?.close().catch(() => undefined);
        else this.sessions.set(id, session);
      },
      onsessionclosed: () => this.forget(session),
    });
    session.transport.onclose = () => this.forget(session);
    session.server = this.options.build({
      id: () => session.id,
      subscribe: (uri) => this.subscribe(session, uri),
      unsubscribe: (uri) => this.unsubscribe(session, uri),
    });
    await session.server.connect(session.transport);
    return this.served(session, () => session.transport.handleRequest(request, { parsedBody, authInfo }));
  }

  /** Ends every session (the process stops): their streams end, clients start new sessions elsewhere. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    (await this.joined?.catch(() => undefined))?.leave();
    await Promise.all([...this.sessions.values()].map((session) => session.server?.close().catch(() => undefined)));
    this.sessions.clear();
  }

  /** Runs a request of the session, counting it (and the stream its answer may be) as open until it ends. */
  private async served(session: Session, handle: () => Promise<Response>): Promise<Response> {
    session.open++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      session.open--;
      session.lastUsed = Date.now();
    };
    let response: Response;
    try {
      response = await handle();
    } catch (err) {
      release();
      throw err;
    }
    if (response.body === null) {
      release();
      return response;
    }
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            release();
            controller.close();
          } else {
            controller.enqueue(value);
          }
        } catch (err) {
          release();
          controller.error(err);
        }
      },
      cancel(reason) {
        release();
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }

  private subscribe(session: Session, uri: string): void {
    if (!session.subscriptions.has(uri) && session.subscriptions.size >= SUBSCRIPTIONS_PER_SESSION_MAX) {
      throw new McpError(ErrorCode.InvalidRequest, `A session may hold at most ${SUBSCRIPTIONS_PER_SESSION_MAX} subscriptions; unsubscribe from some first`);
    }
    session.subscriptions.add(uri);
    let watching = this.watchers.get(uri);
    if (watching === undefined) this.watchers.set(uri, (watching = new Set()));
    watching.add(session);
    this.joined ??= this.options.hub.join(undefined, (entry) => {
      const taskId = taskIdOf(entry);
      if (taskId !== undefined) this.tell(taskUri(taskId));
    });
    this.joined.catch((err: unknown) => {
      this.options.logger.warn({ err }, 'MCP: cannot follow task events; subscriptions will not be told of changes');
      this.joined = undefined;
    });
  }

  private unsubscribe(session: Session, uri: string): void {
    session.subscriptions.delete(uri);
    const watching = this.watchers.get(uri);
    watching?.delete(session);
    if (watching?.size === 0) this.watchers.delete(uri);
  }

  private tell(uri: string): void {
    for (const session of this.watchers.get(uri) ?? []) {
      session.server?.server.sendResourceUpdated({ uri }).catch((err: unknown) => this.options.logger.debug({ err, uri }, 'MCP: resources/updated not sent'));
    }
  }

  private forget(session: Session): void {
    for (const uri of [...session.subscriptions]) this.unsubscribe(session, uri);
    if (session.id !== undefined && this.sessions.get(session.id) === session) this.sessions.delete(session.id);
  }

  private closeIdle(): void {
    const before = Date.now() - this.options.idleMs;
    for (const session of this.sessions.values()) if (session.open === 0 && session.lastUsed < before) this.end(session);
  }

  private end(session: Session): void {
    this.forget(session);
    void session.server?.close().catch(() => undefined);
  }
}
