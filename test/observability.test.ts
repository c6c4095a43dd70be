/**
 * Bearer auth, the local API docs, and Prometheus metrics of the API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, uniqueId } from './helpers/harness';

describe('API_TOKEN', () => {
  let h: Harness;
  const token = 'correct horse battery staple';
  beforeAll(async () => {
    h = await Harness.start({ worker: false, env: { API_TOKEN: token } });
  });
  afterAll(() => h?.close());

  it.each([
    ['no header', undefined, 'Missing bearer token'],
    ['a wrong token', `Bearer ${token}x`, 'Invalid bearer token'],
    ['a shorter token', 'Bearer c', 'Invalid bearer token'],
    ['another scheme', `Basic ${token}`, 'Missing bearer token'],
  ])('refuses %s with 401', async (_name, authorization, detail) => {
    for (const [method, path] of [
      ['GET', `/tasks/${uniqueId('t')}`],
      ['POST', '/tasks/process'],
      ['GET', '/chat/u1/history'],
      ['GET', '/workflows/task-workflow-x'],
      ['GET', '/events/stats'],
    ] as const) {
      const res = await h.fetch(path, { method, headers: authorization ? { authorization } : {} });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="task-agent", error="invalid_(request|token)"$/);
      expect(((await res.json()) as { detail: string }).detail).toBe(detail);
    }
  });

  it('lets the right token through', async () => {
    const res = await h.fetch(`/tasks/${uniqueId('t')}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(404);
  });

  it('leaves health and docs open, and serves no metrics to callers (they have a port of their own)', async () => {
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/docs', '/docs/assets/swagger-ui.css']) {
      expect((await h.fetch(path)).status, path).toBe(200);
    }
    expect((await h.fetch('/metrics')).status).toBe(401);
    expect((await h.fetch('/metrics', { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
    expect(await h.metrics()).toContain('task_agent_http_requests_total');
  });
});

describe('docs and metrics', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start({ worker: false });
  });
  afterAll(() => h?.close());

  it('serves Swagger UI with its assets from the package, pointing at /openapi.json', async () => {
    const page = await (await h.fetch('/docs')).text();
    expect(page).toContain("url: '/openapi.json'");
    expect(page).not.toMatch(/https?:\/\//);
    const bundle = await h.fetch('/docs/assets/swagger-ui-bundle.js');
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    expect((await h.fetch('/docs/assets/../../package.json')).status).toBe(404);
  });

  it('counts requests by route pattern and status', async () => {
    const metrics = () => h.metrics();
    const count = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    const byRoute = 'task_agent_http_requests_total{method="GET",route="/tasks/:task_id",status="404"}';
    const unmatched = 'task_agent_http_requests_total{method="GET",route="unmatched",status="404"}';
    const before = await metrics();
    await h.fetch(`/tasks/${uniqueId('a')}`);
    await h.fetch(`/tasks/${uniqueId('b')}`);
    await h.fetch('/no/such/route');
    const after = await metrics();
    expect(count(after, byRoute) - count(before, byRoute)).toBe(2);
    expect(count(after, unmatched) - count(before, unmatched)).toBe(1);
    expect(after).toMatch(/task_agent_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/tasks\/:task_id",status="404"\}/);
    expect(after).toContain('task_agent_api_process_resident_memory_bytes');
  });

  it('reports the event streams: length, and per consumer group the pending entries, their oldest age and the lag', async () => {
    const key = `${h.config.REDIS_KEY_PREFIX}stream:task-events`;
    const group = uniqueId('metrics-group');
    await h.redis.xgroup('CREATE', key, group, '0', 'MKSTREAM');
    // Added 5 s ago by its id's clock, taken by a consumer and never acknowledged; a second one not read yet.
    await h.redis.xadd(key, `${Date.now() - 5_000}-0`, 'event', '{}');
    await h.redis.xreadgroup('GROUP', group, 'c1', 'COUNT', 1, 'STREAMS', key, '>');
    await h.redis.xadd(key, '*', 'event', '{}');
    const text = await h.metrics();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} ([\\d.]+)$`, 'm').exec(text)?.[1]);
    expect(value('task_agent_event_stream_length{topic="task-events"}')).toBe(2);
    expect(value(`task_agent_event_group_pending{topic="task-events",group="${group}"}`)).toBe(1);
    expect(value(`task_agent_event_group_lag{topic="task-events",group="${group}"}`)).toBe(1);
    expect(value(`task_agent_event_group_oldest_pending_age_seconds{topic="task-events",group="${group}"}`)).toBeGreaterThanOrEqual(5);
    expect(value('task_agent_entity_updates_rejected_total')).toBe(0);
  });
});
