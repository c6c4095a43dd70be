/**
 * The MCP server at /mcp, used by the official SDK's own client over Streamable HTTP, against the real dev
 * server and Redis, with real signed tokens: the tool list from the agent's definitions, calls with the
 * caller's rights, a request sent again applied once, approvals asked by elicitation or left waiting with
 * their id, task resources and subscriptions that fire on a change made through the HTTP API, and the same
 * access rules as the HTTP API.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, ResourceUpdatedNotificationSchema, type CallToolResult, type ElicitRequest, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApi } from '../api/app';
import { TOOLS, toolSchemas } from '../entities/chat/agent/tools';
import { IDEMPOTENCY_META_KEY } from '../mcp/shared';
import { Harness } from './helpers/harness';
import { TEST_JWT_SECRET, person, tokenFor, type Person } from './helpers/people';

let h: Harness;
const clients: Client[] = [];

beforeAll(async () => {
  h = await Harness.start({ env: { AUTH_JWT_SECRET: TEST_JWT_SECRET, MCP_SESSION_IDLE: '1h' } });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await h?.close();
});

const mcpUrl = () => new URL(`${h.baseUrl}/mcp`);

/** A client of the SDK, signed in with `token`; `answer` makes it one that takes elicitations. */
async function connect(token: string | undefined, answer?: (request: ElicitRequest) => ElicitResult | Promise<ElicitResult>) {
  const client = new Client({ name: 'test-client', version: '1.0.0' }, { capabilities: answer ? { elicitation: { form: {} } } : {} });
  if (answer) client.setRequestHandler(ElicitRequestSchema, (request) => answer(request));
  const transport = new StreamableHTTPClientTransport(mcpUrl(), { requestInit: { headers: token ? { authorization: `Bearer ${token}` } : {} } });
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}

const call = async (client: Client, name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) =>
  (await client.callTool({ name, arguments: args, ...(meta ? { _meta: meta } : {}) }, undefined, { timeout: 60_000 })) as CallToolResult & {
    structuredContent: Record<string, unknown>;
  };

async function createTask(who: Person, title = 'An MCP task'): Promise<string> {
  const res = await h.fetch('/tasks', {
    method: 'POST',
    headers: { ...who.auth, 'content-type': 'application/json' },
    body: JSON.stringify({ title, description: 'made for an MCP test' }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { task_id: string }).task_id;
}

const getTask = async (who: Person, taskId: string) => (await h.fetch(`/tasks/${taskId}`, { headers: who.auth })).json() as Promise<Record<string, unknown>>;

describe('MCP server: tools', () => {
  it('lists the agent tools with their own schemas and truthful annotations', async () => {
    const alice = await person('mcp-alice-list');
    const { client } = await connect(alice.token);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(Object.keys(TOOLS).sort());
    for (const schema of toolSchemas()) {
      const tool = tools.find((t) => t.name === schema.function.name)!;
      expect(tool.inputSchema).toEqual(schema.function.parameters);
      expect(tool.annotations?.readOnlyHint).toBe(!TOOLS[schema.function.name as keyof typeof TOOLS].changes);
    }
    const byName = Object.fromEntries(tools.map((t) => [t.name, t.annotations]));
    expect(byName.get_task).toMatchObject({ readOnlyHint: true });
    expect(byName.delete_task).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: true });
    expect(byName.create_task).toMatchObject({ readOnlyHint: false, destructiveHint: false, idempotentHint: false });
    expect(byName.set_deadline).toMatchObject({ idempotentHint: false });
  });

  it('reads and changes tasks with the caller\'s rights, recorded in their chat', async () => {
    const alice = await person('mcp-alice-rw');
    const { client } = await connect(alice.token);
    const created = await call(client, 'create_task', { title: 'Write the MCP docs', description: 'Snippets for common clients' });
    expect(created.isError).toBeFalsy();
    expect(created.structuredContent).toMatchObject({ status: 'done', task: { title: 'Write the MCP docs', created_by: alice.id } });
    const taskId = (created.structuredContent.task as { task_id: string }).task_id;
    // The same JSON as text, for clients that read only text.
    expect(JSON.parse((created.content[0] as { text: string }).text)).toEqual(created.structuredContent);

    const read = await call(client, 'get_task', { task_id: taskId });
    expect(read.structuredContent).toMatchObject({ task_id: taskId, title: 'Write the MCP docs', status: 'pending' });

    const assigned = await call(client, 'assign_task', { task_id: taskId, assignee: alice.email });
    expect(assigned.structuredContent).toMatchObject({ status: 'done', task: { assignee: alice.email, updated_by: alice.id } });
    expect(await getTask(alice, taskId)).toMatchObject({ assignee: alice.email, version: 2 });

    const mine = await call(client, 'list_tasks', { assignee: 'me' });
    await vi.waitFor(
      async () => {
        const again = await call(client, 'list_tasks', { assignee: 'me' });
        expect((again.structuredContent.tasks as { task_id: string }[]).map((t) => t.task_id)).toContain(taskId);
      },
      { timeout: 20_000, interval: 300 },
    );
    expect(mine.isError).toBeFalsy();

    // What the assistant did is in the user's chat, and /undo takes it back.
    const history = (await (await h.fetch(`/chat/${alice.id}/history`, { headers: alice.auth })).json()) as { messages: { content: string }[] };
    expect(history.messages.map((m) => m.content)).toContain(`[MCP] assign_task ${taskId} → ${alice.email}`);
    const undo = await h.fetch(`/chat/${alice.id}/undo`, { method: 'POST', headers: alice.auth });
    expect(undo.status).toBe(200);
    expect(await getTask(alice, taskId)).toMatchObject({ assignee: null });
  });

  it('answers bad arguments and unknown tools as tool errors that name the problem', async () => {
    const alice = await person('mcp-alice-bad');
    const { client } = await connect(alice.token);
    const bad = await call(client, 'set_deadline', { task_id: 'task-1', deadline_seconds: 'soon' });
    expect(bad.isError).toBe(true);
    expect(bad.structuredContent.error).toMatch(/deadline_seconds/);
    const unknown = await call(client, 'drop_database', {});
    expect(unknown.isError).toBe(true);
    expect(unknown.structuredContent.error).toMatch(/no tool named "drop_database"/);
    const missing = await call(client, 'get_task', { task_id: 'no-such-task-here' });
    expect(missing).toMatchObject({ isError: true, structuredContent: { error: 'Task no-such-task-here does not exist' } });
  });
});

describe('MCP server: a request sent again applies once', () => {
  it('the same JSON-RPC request resent in its session gets the first answer, and one task is made', async () => {
    const alice = await person('mcp-alice-resend');
    const { client, transport } = await connect(alice.token);
    await client.listTools();
    const resend = async () => {
      const res = await fetch(mcpUrl(), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${alice.token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': transport.sessionId!,
          'mcp-protocol-version': transport.protocolVersion ?? '2025-06-18',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 4242, method: 'tools/call', params: { name: 'create_task', arguments: { title: 'Exactly once please' } } }),
      });
      expect(res.status).toBe(200);
      const data = (await res.text()).split('\n').find((line) => line.startsWith('data: '))!;
      return JSON.parse(data.slice(6)) as { id: number; result: { structuredContent: { task: { task_id: string } } } };
    };
    const first = await resend();
    const second = await resend();
    expect(second.id).toBe(4242);
    expect(second.result).toEqual(first.result);
    const taskId = first.result.structuredContent.task.task_id;
    const history = (await (await h.fetch(`/chat/${alice.id}/history`, { headers: alice.auth })).json()) as { messages: { content: string }[] };
    expect(history.messages.filter((m) => m.content.startsWith('[MCP] create_task'))).toHaveLength(1);
    expect(await getTask(alice, taskId)).toMatchObject({ title: 'Exactly once please', version: 1 });
  });

  it('an idempotency key in _meta holds across sessions, and sent at once from two sessions they join', async () => {
    const alice = await person('mcp-alice-key');
    const one = await connect(alice.token);
    const two = await connect(alice.token);
    const meta = { [IDEMPOTENCY_META_KEY]: 'create-the-report-task' };
    const [a, b] = await Promise.all([
      call(one.client, 'create_task', { title: 'The quarterly report' }, meta),
      call(two.client, 'create_task', { title: 'The quarterly report' }, meta),
    ]);
    expect(a.structuredContent.task).toEqual(b.structuredContent.task);
    const later = await call(two.client, 'create_task', { title: 'The quarterly report' }, meta);
    expect(later.structuredContent.task).toEqual(a.structuredContent.task);
    // The same key for another request is refused, not applied.
    const other = await call(one.client, 'create_task', { title: 'Something else entirely' }, meta);
    expect(other.isError).toBe(true);
    expect(other.structuredContent.error).toMatch(/Idempotency-Key|another request/);
  });
});

describe('MCP server: approvals', () => {
  it('without elicitation answers with the approval id, and applies the change only when it is decided', async () => {
    const alice = await person('mcp-alice-ap');
    const bob = await person('mcp-bob-ap');
    const carol = await person('mcp-carol-ap');
    const taskId = await createTask(alice);
    const { client } = await connect(alice.token);
    await call(client, 'assign_task', { task_id: taskId, assignee: bob.email });
    // Taking a task from Bob waits for Alice's say, as in the chat.
    const asked = await call(client, 'assign_task', { task_id: taskId, assignee: carol.email });
    expect(asked.isError).toBeFalsy();
    expect(asked.structuredContent).toMatchObject({ status: 'awaiting_approval', change: `${taskId}: assignee ${bob.email} → ${carol.email}` });
    const approvalId = asked.structuredContent.approval_id as string;
    expect(asked.structuredContent.decide_with).toContain(`the chat: /approve ${approvalId} or /deny ${approvalId}`);
    expect(await getTask(alice, taskId)).toMatchObject({ assignee: bob.email });
    const { approvals } = (await (await h.fetch(`/chat/${alice.id}/approvals`, { headers: alice.auth })).json()) as { approvals: { approval_id: string }[] };
    expect(approvals.map((a) => a.approval_id)).toEqual([approvalId]);

    const decided = await h.fetch(`/chat/${alice.id}/approvals/${approvalId}`, {
      method: 'POST',
      headers: { ...alice.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ approved: true }),
    });
    expect(decided.status).toBe(200);
    // The HTTP answer keeps the seed's entry shape.
    expect(Object.keys((await decided.json()) as object).sort()).toEqual(['content', 'role', 'timestamp']);
    expect(await getTask(alice, taskId)).toMatchObject({ assignee: carol.email });
  });

  it('asks through elicitation with the exact change: approved applies it, declined leaves the task', async () => {
    const admin = await person('mcp-admin-el');
    const adminToken = await tokenFor(admin.id, { email: admin.email, email_verified: true, scope: 'admin' });
    const asked: string[] = [];
    let decision: ElicitResult = { action: 'decline' };
    const { client } = await connect(adminToken, (request) => {
      asked.push(request.params.message);
      return decision;
    });
    const keep = await createTask(admin, 'Keep this task');
    const declined = await call(client, 'delete_task', { task_id: keep });
    expect(asked.at(-1)).toContain(`${keep}: deleted ("Keep this task")`);
    expect(declined.isError).toBe(true);
    expect(declined.structuredContent).toMatchObject({ status: 'denied' });
    expect(await getTask(admin, keep)).toMatchObject({ task_id: keep });

    decision = { action: 'accept', content: { approve: true } };
    const drop = await createTask(admin, 'Drop this task');
    const deleted = await call(client, 'delete_task', { task_id: drop });
    expect(deleted.structuredContent).toMatchObject({ status: 'done', result: `${drop}: deleted` });
    expect((await h.fetch(`/tasks/${drop}`, { headers: { authorization: `Bearer ${adminToken}` } })).status).toBe(404);
  });
});

describe('MCP server: an approval asked once', () => {
  it('a call sent again after the user decided gets the decided answer without asking again', async () => {
    const admin = await person('mcp-admin-again');
    const adminToken = await tokenFor(admin.id, { email: admin.email, email_verified: true, scope: 'admin' });
    const asked: string[] = [];
    const first = await connect(adminToken, (request) => {
      asked.push(request.params.message);
      return { action: 'accept', content: { approve: true } };
    });
    const second = await connect(adminToken, (request) => {
      asked.push(request.params.message);
      return { action: 'accept', content: { approve: false } };
    });
    const taskId = await createTask(admin, 'Delete me once');
    const meta = { [IDEMPOTENCY_META_KEY]: `delete-${taskId}` };
    const deleted = await call(first.client, 'delete_task', { task_id: taskId }, meta);
    expect(deleted.structuredContent).toMatchObject({ status: 'done' });
    // The answer was lost; the same call again, from another session: the first decision's answer, not a new question.
    const again = await call(second.client, 'delete_task', { task_id: taskId }, meta);
    expect(again.structuredContent).toEqual(deleted.structuredContent);
    expect(asked).toHaveLength(1);
  });
});

describe('MCP server: task resources', () => {
  it('reads a task, and a subscription hears of a change made through the HTTP API', async () => {
    const alice = await person('mcp-alice-res');
    const taskId = await createTask(alice, 'Watch me change');
    const { client } = await connect(alice.token);
    const read = await client.readResource({ uri: `task://${taskId}` });
    expect(JSON.parse((read.contents[0] as { text: string }).text)).toMatchObject({ task_id: taskId, title: 'Watch me change' });
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toContain('task://{task_id}');

    const heard: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void heard.push(n.params.uri));
    await client.subscribeResource({ uri: `task://${taskId}` });
    await call(client, 'assign_task', { task_id: taskId, assignee: alice.email });
    await vi.waitFor(() => expect(heard).toContain(`task://${taskId}`), { timeout: 10_000 });
    heard.length = 0;
    const changed = await h.fetch(`/tasks/${taskId}/status`, {
      method: 'PUT',
      headers: { ...alice.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'in_progress' }),
    });
    expect(changed.status).toBe(200);
    await vi.waitFor(() => expect(heard).toEqual([`task://${taskId}`]), { timeout: 10_000 });
    const after = await client.readResource({ uri: `task://${taskId}` });
    expect(JSON.parse((after.contents[0] as { text: string }).text)).toMatchObject({ status: 'in_progress' });

    await client.unsubscribeResource({ uri: `task://${taskId}` });
    await expect(client.readResource({ uri: 'task://no-such-task-here' })).rejects.toThrow(/does not exist/);
  });
});

describe('MCP server: access', () => {
  it('refuses a missing or bad token with 401, as the HTTP API does', async () => {
    await expect(connect(undefined)).rejects.toMatchObject({ code: 401, message: expect.stringMatching(/Missing bearer token/) });
    await expect(connect('not-a-token')).rejects.toMatchObject({ code: 401, message: expect.stringMatching(/Invalid bearer token/) });
    const forged = await tokenFor('mallory', {}, 'another-secret-of-at-least-32-characters');
    await expect(connect(forged)).rejects.toMatchObject({ code: 401 });
  });

  it("keeps a user to their rights on another user's task, and a session to its user", async () => {
    const alice = await person('mcp-alice-acl');
    const bob = await person('mcp-bob-acl');
    const taskId = await createTask(alice);
    const asAlice = await connect(alice.token);
    await call(asAlice.client, 'assign_task', { task_id: taskId, assignee: alice.email });
    const asBob = await connect(bob.token);
    const status = await call(asBob.client, 'update_status', { task_id: taskId, status: 'completed' });
    expect(status.isError).toBe(true);
    expect(status.structuredContent.result).toMatch(/Not allowed: only the assignee/);
    const deletion = await call(asBob.client, 'delete_task', { task_id: taskId });
    expect(deletion.structuredContent.result).toMatch(/Not allowed: deleting a task needs the admin right/);
    expect(await getTask(alice, taskId)).toMatchObject({ status: 'assigned', version: 2 });

    // Bob naming Alice's session is told there is no such session.
    const hijack = await fetch(mcpUrl(), {
      method: 'POST',
      headers: { authorization: `Bearer ${bob.token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': asAlice.transport.sessionId! },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(hijack.status).toBe(404);
  });
});

describe('npm run mcp (stdio, for desktop clients)', () => {
  it('relays a desktop client to the running service with its token: tools, calls and subscriptions', async () => {
    const alice = await person('mcp-alice-stdio');
    const client = new Client({ name: 'desktop-client', version: '1.0.0' });
    const transport = new StdioClientTransport({
      command: 'npm',
      args: ['run', '--silent', 'mcp'],
      cwd: process.cwd(),
      env: { ...(process.env as Record<string, string>), TASK_AGENT_URL: h.baseUrl, TASK_AGENT_TOKEN: alice.token },
      stderr: 'pipe',
    });
    await client.connect(transport);
    clients.push(client);
    expect((await client.listTools()).tools).toHaveLength(Object.keys(TOOLS).length);
    const created = await call(client, 'create_task', { title: 'Made from the desktop' });
    const task = created.structuredContent.task as { task_id: string; created_by: string };
    expect(task.created_by).toBe(alice.id);

    const heard: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void heard.push(n.params.uri));
    await client.subscribeResource({ uri: `task://${task.task_id}` });
    await call(client, 'set_deadline', { task_id: task.task_id, deadline_seconds: 600 });
    await vi.waitFor(() => expect(heard).toContain(`task://${task.task_id}`), { timeout: 10_000 });
    await client.close();
  });

  it('starts a new session when the service restarted, and follows the same tasks again', async () => {
    const alice = await person('mcp-alice-restart');
    // An API of its own on a fixed port, to restart under the relay.
    const start = async (port: number) => {
      const api = createApi({ config: h.config, client: h.client, redis: h.redis, logger: pino({ level: 'silent' }) });
      const server = serve({ fetch: api.app.fetch, hostname: '127.0.0.1', port });
      await once(server, 'listening');
      return { api, server, port: (server.address() as AddressInfo).port };
    };
    const stopApi = async (running: Awaited<ReturnType<typeof start>>) => {
      await running.api.close();
      running.server.close();
      (running.server as unknown as { closeAllConnections(): void }).closeAllConnections();
    };
    let running = await start(0);
    const client = new Client({ name: 'desktop-client', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: 'npm',
        args: ['run', '--silent', 'mcp'],
        cwd: process.cwd(),
        env: { ...(process.env as Record<string, string>), TASK_AGENT_URL: `http://127.0.0.1:${running.port}`, TASK_AGENT_TOKEN: alice.token },
        stderr: 'pipe',
      }),
    );
    clients.push(client);
    try {
      const created = await call(client, 'create_task', { title: 'Survives a restart' });
      const taskId = (created.structuredContent.task as { task_id: string }).task_id;
      const heard: string[] = [];
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void heard.push(n.params.uri));
      await client.subscribeResource({ uri: `task://${taskId}` });

      await stopApi(running);
      running = await start(running.port);
      // The new API process knows no session: the relay starts one and subscribes again.
      const read = await call(client, 'get_task', { task_id: taskId });
      expect(read.structuredContent).toMatchObject({ task_id: taskId, title: 'Survives a restart' });
      await call(client, 'set_deadline', { task_id: taskId, deadline_seconds: 900 });
      await vi.waitFor(() => expect(heard).toContain(`task://${taskId}`), { timeout: 10_000 });
    } finally {
      await client.close();
      await stopApi(running);
    }
  });

  it('answers a request with an error when the service cannot be reached', async () => {
    const client = new Client({ name: 'desktop-client', version: '1.0.0' });
    const transport = new StdioClientTransport({
      command: 'npm',
      args: ['run', '--silent', 'mcp'],
      cwd: process.cwd(),
      env: { ...(process.env as Record<string, string>), TASK_AGENT_URL: 'http://127.0.0.1:9', TASK_AGENT_TOKEN: 'x' },
      stderr: 'pipe',
    });
    await expect(client.connect(transport)).rejects.toThrow(/task-agent at http:\/\/127\.0\.0\.1:9/);
    await client.close();
  });
});
