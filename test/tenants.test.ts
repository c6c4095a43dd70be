/**
 * Tenants kept apart (TENANTS): each tenant its own Temporal namespace, the tenant from the token. The same
 * task id in two tenants is two tasks; nobody of one tenant (user or admin) reads, changes, lists, streams or
 * approves anything of another, answered 404 so that existence does not leak; the agent and MCP of a tenant see
 * only that tenant; events go to per-tenant streams. Real API with real signed tokens, a worker per tenant
 * namespace, the real server (both namespaces registered by the test setup, as npm start registers them).
 */
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantConfig, type Tenant } from '../common/config';
import { clientFor } from '../common/temporal';
import { TOPICS } from '../workflows/shared/cloudevents';
import { notificationsKey } from '../activities/notify';
import { taskEntityWorkflowId } from '../workflows/shared/ids';
import { Harness, eventually, seedTask, uniqueId } from './helpers/harness';
import { TEST_JWT_SECRET, tokenFor } from './helpers/people';
import { SseClient } from './helpers/sse';
import { streamEvents } from './helpers/streams';
import { TEST_TENANTS } from './helpers/tenants';

const SERVICE_TOKEN = 'tenants-service-token';
let h: Harness;
let acme: Tenant;
let globex: Tenant;
beforeAll(async () => {
  h = await Harness.start({ env: { TENANTS: TEST_TENANTS, AUTH_JWT_SECRET: TEST_JWT_SECRET, API_TOKEN: SERVICE_TOKEN } });
  [acme, globex] = h.config.TENANTS! as [Tenant, Tenant];
});
afterAll(() => h?.close());

/** Someone of `tenant` (the same `sub` may exist in several tenants: they are different people there). */
async function member(tenant: string | undefined, sub: string, { admin = false, email = `${sub}@example.com` } = {}) {
  const token = await tokenFor(sub, { email, email_verified: true, ...(tenant ? { tenant } : {}), ...(admin ? { scope: 'admin' } : {}) });
  return { sub, email, token, auth: { authorization: `Bearer ${token}` } };
}
type Member = Awaited<ReturnType<typeof member>>;

const call = (...args: Parameters<Harness['call']>) => h.call(...args);

async function processed(who: Member, body: Record<string, unknown>) {
  const started = await call(who.auth, 'POST', '/tasks/process', body);
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  await eventually(() => call(who.auth, 'GET', `/workflows/${started.body.workflow_id}`), (r) => r.body.status === 'COMPLETED', { timeoutMs: 30_000 });
}

const say = async (who: Member, content: string) => {
  const res = await call(who.auth, 'POST', `/chat/${who.sub}`, { content });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.content as string;
};

describe('tenants kept apart', () => {
  it('keeps the same task id in two tenants as two tasks, each in its own namespace', { timeout: 60_000 }, async () => {
    const [a, g] = await Promise.all([member('acme', uniqueId('ann')), member('globex', uniqueId('gus'))]);
    const id = uniqueId('shared-id');
    await processed(a, seedTask(id, { title: 'Acme: review PR', assignee: a.email }));
    await processed(g, seedTask(id, { title: 'Globex: review PR', assignee: g.email }));
    expect((await call(a.auth, 'GET', `/tasks/${id}`)).body).toMatchObject({ title: 'Acme: review PR', assignee: a.email });
    expect((await call(g.auth, 'GET', `/tasks/${id}`)).body).toMatchObject({ title: 'Globex: review PR', assignee: g.email });
    // Two entities, one per namespace; none in the deployment's own namespace.
    for (const tenant of [acme, globex]) {
      const description = await clientFor(h.client, tenantConfig(h.config, tenant)).workflow.getHandle(taskEntityWorkflowId(id)).describe();
      expect(description.status.name).toBe('RUNNING');
    }
    await expect(h.client.workflow.getHandle(taskEntityWorkflowId(id)).describe()).rejects.toThrow(/not found/i);
    // Each tenant's events on its own streams.
    const acmeEvents = await eventually(() => streamEvents<{ task_id: string }>(h.redis, `${h.config.REDIS_KEY_PREFIX}acme:`, TOPICS.tasks), (e) => e.some((x) => x.data.task_id === id));
    const globexEvents = await streamEvents<{ task: { title: string } }>(h.redis, `${h.config.REDIS_KEY_PREFIX}globex:`, TOPICS.tasks);
    expect(acmeEvents.filter((e) => e.data.task_id === id).every((e) => (e.data as unknown as { task: { title: string } }).task.title.startsWith('Acme'))).toBe(true);
    expect(globexEvents.some((e) => e.data.task.title.startsWith('Acme'))).toBe(false);
    expect(await streamEvents(h.redis, h.config.REDIS_KEY_PREFIX, TOPICS.tasks)).toEqual([]);
    // One notifications app for all: each tenant's notification kept under its namespace, none overwriting the other.
    const kept = await h.redis.hgetall(notificationsKey(h.config.REDIS_KEY_PREFIX, a.email));
    expect(Object.keys(kept)).toEqual([`${acme.namespace}/task-workflow-${id}`]);
    expect(JSON.parse(kept[`${acme.namespace}/task-workflow-${id}`]!)).toMatchObject({ namespace: acme.namespace, title: 'Acme: review PR' });
    expect(Object.keys(await h.redis.hgetall(notificationsKey(h.config.REDIS_KEY_PREFIX, g.email)))).toEqual([`${globex.namespace}/task-workflow-${id}`]);
  });

  it('answers 404 to anyone of another tenant, admins included, for reads, changes, listings, projects and approvals', { timeout: 90_000 }, async () => {
    const a = await member('acme', uniqueId('ann'));
    const acmeAdmin = await member('acme', uniqueId('root'), { admin: true });
    const intruder = await member('globex', uniqueId('mallory'), { admin: true, email: a.email });
    const id = uniqueId('acme-only');
    await processed(a, seedTask(id, { assignee: a.email }));

    expect((await call(intruder.auth, 'GET', `/tasks/${id}`)).status).toBe(404);
    expect((await call(intruder.auth, 'GET', `/tasks/${id}/history`)).status).toBe(404);
    expect((await call(intruder.auth, 'PUT', `/tasks/${id}/status`, { status: 'completed' })).status).toBe(404);
    expect((await call(intruder.auth, 'DELETE', `/tasks/${id}`)).status).toBe(404);
    expect((await call(intruder.auth, 'GET', `/workflows/task-workflow-${id}`)).status).toBe(404);
    const listed = await call(intruder.auth, 'GET', `/tasks?assignee=${encodeURIComponent(a.email)}`);
    expect(listed.body.tasks).toEqual([]);
    // Acme still has it, as it was.
    await eventually(() => call(a.auth, 'GET', `/tasks?assignee=${encodeURIComponent(a.email)}`), (r) => (r.body.tasks as unknown[]).length === 1);
    expect((await call(a.auth, 'GET', `/tasks/${id}`)).body).toMatchObject({ status: 'assigned', version: 3 });

    // Projects: another tenant's is not there, and the id is free in this one.
    const projectId = uniqueId('acme-proj');
    expect((await call(a.auth, 'POST', '/projects/process', { project_id: projectId, name: 'Acme launch', tasks: [] })).status).toBe(200);
    await eventually(() => call(a.auth, 'GET', `/projects/${projectId}`), (r) => r.status === 200);
    expect((await call(intruder.auth, 'GET', `/projects/${projectId}`)).status).toBe(404);
    expect((await call(intruder.auth, 'PATCH', `/projects/${projectId}`, { name: 'Mine' })).status).toBe(404);
    expect((await call(intruder.auth, 'DELETE', `/projects/${projectId}`)).status).toBe(404);
    expect((await call(intruder.auth, 'GET', `/projects/${projectId}/setup`)).status).toBe(404);

    // An approval waiting in acme: a globex admin with the same user id neither sees nor decides it.
    const twin = await member('globex', acmeAdmin.sub, { admin: true });
    expect(await say(acmeAdmin, `/delete ${id}`)).toContain('Before I go on I need your approval');
    const { approvals } = (await call(acmeAdmin.auth, 'GET', `/chat/${acmeAdmin.sub}/approvals`)).body as { approvals: { approval_id: string }[] };
    expect(approvals).toHaveLength(1);
    expect((await call(twin.auth, 'GET', `/chat/${acmeAdmin.sub}/approvals`)).body).toEqual({ approvals: [] });
    expect((await call(twin.auth, 'POST', `/chat/${acmeAdmin.sub}/approvals/${approvals[0]!.approval_id}`, { approved: true })).status).toBe(404);
    expect((await call(twin.auth, 'GET', `/chat/${acmeAdmin.sub}/history`)).body).toMatchObject({ messages: [] });
    expect((await call(a.auth, 'GET', `/tasks/${id}`)).status).toBe(200);
  });

  it("gives a tenant's agent and MCP clients that tenant's tasks only", { timeout: 60_000 }, async () => {
    const a = await member('acme', uniqueId('ann'));
    const g = await member('globex', uniqueId('gus'));
    const id = uniqueId('acme-task');
    await processed(a, seedTask(id, { assignee: a.email }));
    expect(await say(a, `/task ${id}`)).toMatch(new RegExp(`^${id} "Review PR #42": assigned`));
    expect(await say(g, `/task ${id}`)).toBe(`Task ${id} does not exist`);
    expect(await say(g, `/assign ${id} ${g.email}`)).toBe(`Task ${id} does not exist`);

    const mcp = new McpClient({ name: 'tenant-test', version: '1.0.0' });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${h.baseUrl}/mcp`), { requestInit: { headers: g.auth } }));
    try {
      const read = await mcp.callTool({ name: 'get_task', arguments: { task_id: id } });
      expect(read.isError).toBe(true);
      expect(JSON.stringify(read.content)).toContain('does not exist');
    } finally {
      await mcp.close();
    }
    const mine = new McpClient({ name: 'tenant-test', version: '1.0.0' });
    await mine.connect(new StreamableHTTPClientTransport(new URL(`${h.baseUrl}/mcp`), { requestInit: { headers: a.auth } }));
    try {
      expect((await mine.callTool({ name: 'get_task', arguments: { task_id: id } })).structuredContent).toMatchObject({ task_id: id, status: 'assigned' });
    } finally {
      await mine.close();
    }
  });

  it("streams a user only their own tenant's changes", { timeout: 60_000 }, async () => {
    const a = await member('acme', uniqueId('ann'));
    // The same address in globex: a different person there.
    const g = await member('globex', uniqueId('gus'), { email: a.email });
    const stream = new SseClient(`${h.baseUrl}/chat/${g.sub}/events`, { headers: g.auth });
    try {
      await stream.ready;
      expect(stream.status).toBe(200);
      const acmeTask = uniqueId('acme-stream');
      const globexTask = uniqueId('globex-stream');
      await processed(a, seedTask(acmeTask, { assignee: a.email }));
      await processed(g, seedTask(globexTask, { assignee: g.email }));
      await stream.chunk('data-task', (c) => c.id === globexTask);
      expect(stream.chunks.some((c) => c.id === acmeTask)).toBe(false);
    } finally {
      stream.close();
    }
  });

  it('refuses a token without a tenant or of a tenant not served (403), and takes the service credential with X-Tenant', async () => {
    const nobody = await member(undefined, uniqueId('nobody'));
    const stranger = await member('initech', uniqueId('peter'));
    expect((await call(nobody.auth, 'GET', '/tasks')).body).toEqual({ detail: 'Forbidden: your token names no tenant (the `tenant` claim)' });
    expect((await call(stranger.auth, 'GET', '/tasks')).status).toBe(403);
    const service = { authorization: `Bearer ${SERVICE_TOKEN}` };
    const missing = await call(service, 'GET', '/tasks');
    expect(missing.status).toBe(422);
    expect(missing.body.errors).toEqual([{ field: 'x-tenant', message: 'must name a tenant: one of acme, globex' }]);
    expect((await call(service, 'GET', '/tasks', undefined, { 'x-tenant': 'globex' })).status).toBe(200);
    // A user's X-Tenant header changes nothing: their tenant is their token's.
    const a = await member('acme', uniqueId('ann'));
    const id = uniqueId('acme-hdr');
    await processed(a, seedTask(id, { assignee: a.email }));
    const g = await member('globex', uniqueId('gus'));
    expect((await call(g.auth, 'GET', `/tasks/${id}`, undefined, { 'x-tenant': 'acme' })).status).toBe(404);
    expect((await call(service, 'GET', `/tasks/${id}`, undefined, { 'x-tenant': 'acme' })).status).toBe(200);
    // The codec: one key set, decoded for the deployment's admins only; not for an admin of a tenant not
    // served, nor for another tenant's namespace.
    const codec = { payloads: [] };
    const strangerAdmin = await member('initech', uniqueId('peter'), { admin: true });
    const acmeAdmin = await member('acme', uniqueId('root'), { admin: true });
    expect((await call(strangerAdmin.auth, 'POST', '/codec/decode', codec)).status).toBe(403);
    expect((await call(acmeAdmin.auth, 'POST', '/codec/decode', codec, { 'x-namespace': globex.namespace })).status).toBe(403);
    expect((await call(acmeAdmin.auth, 'POST', '/codec/decode', codec, { 'x-namespace': acme.namespace })).status).not.toBe(403);
    expect((await call(service, 'POST', '/codec/decode', codec)).status).not.toBe(403);
    // Health and docs need no tenant.
    expect((await h.fetch('/healthz')).status).toBe(200);
    expect((await h.fetch('/openapi.json')).status).toBe(200);
  });
});
