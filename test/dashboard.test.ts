/**
 * deploy/grafana-dashboard.json is what scripts/grafana-dashboard.ts writes, and every metric it queries is
 * one the processes export: the real worker process (the SDK's Prometheus endpoint) and the API, scraped
 * after the traffic the panels watch (a processing run whose notification fails once, a chat message, events).
 */
import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DASHBOARD_PATH, dashboard, dashboardText } from '../scripts/grafana-dashboard';
import { freePort } from '../scripts/dev-server';
import { spawnEntry, stopProcess } from '../scripts/processes';
import { Harness, eventually, seedTask, uniqueId } from './helpers/harness';
import { harnessEnv } from './helpers/processes';
import { startWebhook, type TestWebhook } from './helpers/webhook';

const PROMQL_WORDS = new Set(['sum', 'max', 'min', 'avg', 'count', 'rate', 'irate', 'increase', 'histogram_quantile', 'by', 'without', 'on', 'ignoring']);

/** The metric names an expression reads: identifiers outside label matchers, ranges, groupings and strings, less PromQL's own words. */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"[^"]*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '');
  return (bare.match(/[A-Za-z_:][A-Za-z0-9_:]*/g) ?? []).filter((word) => !PROMQL_WORDS.has(word));
}

/** Sample names in a Prometheus exposition. */
const exported = (text: string) => new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0]!));

let h: Harness;
let worker: ChildProcess;
let workerMetrics: string;
let webhook: TestWebhook;

beforeAll(async () => {
  webhook = await startWebhook({ status: 500 });
  // The worker notifies with its own activity, so the activity failure the panels count is in its metrics (the
  // notifications app exports none yet).
  h = await Harness.start({ worker: false, subscriber: true, env: { NOTIFY_VIA: 'activity' } });
  const port = await freePort();
  workerMetrics = `http://127.0.0.1:${port}/metrics`;
  worker = spawnEntry('worker/main.ts', {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...harnessEnv(h),
      LOG_LEVEL: 'warn',
      WORKER_METRICS_PORT: String(port),
      WORKER_HEALTH_PORT: '0',
      NOTIFY_WEBHOOK_URL: webhook.url,
      WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
});

afterAll(async () => {
  if (worker) await stopProcess(worker, 15_000);
  await h?.close();
  webhook?.close();
});

describe('the Grafana dashboard', () => {
  it('is the file scripts/grafana-dashboard.ts writes (npm run dashboard)', () => {
    expect(readFileSync(DASHBOARD_PATH, 'utf8')).toBe(dashboardText());
  });

  it('queries only metrics the worker and the API export', { timeout: 90_000 }, async () => {
    const taskId = uniqueId('dash');
    expect((await h.postJson('/tasks/process', seedTask(taskId))).status).toBe(200);
    // The first notification fails (an activity failure to count), the retry goes through.
    // Wait for the 500 to be answered, not for the request to arrive: the answer is chosen when the body ends.
    await eventually(async () => webhook.answered, (a) => a.includes(500), { timeoutMs: 30_000 });
    webhook.status = 200;
    await eventually(() => h.getJson(`/workflows/task-workflow-${taskId}`), (r) => r.body.status === 'COMPLETED', { timeoutMs: 30_000 });
    expect((await h.postJson(`/chat/${uniqueId('dash-user')}`, { content: 'hello' })).status).toBe(200);
    await eventually(() => h.metrics(), (text) => /task_agent_events_consumed_total\{topic="conversation-events"\} [1-9]/.test(text));

    const available = new Set([...exported(await h.metrics()), ...exported(await (await fetch(workerMetrics)).text())]);
    const queried = dashboard()
      .panels.flatMap((p) => ((p as { targets?: { expr: string }[] }).targets ?? []).map((t) => t.expr))
      .flatMap(metricNames);
    expect(queried.length).toBeGreaterThan(15);
    expect([...new Set(queried)].filter((name) => !available.has(name))).toEqual([]);
  });

  it('reads metric names out of PromQL the way the check above needs (so it can fail)', () => {
    expect(metricNames('histogram_quantile(0.95, sum by (le, route) (rate(x_bucket{status=~"5.."}[5m])))')).toEqual(['x_bucket']);
    expect(metricNames('sum(rate(a_total[$__rate_interval])) / sum(b)')).toEqual(['a_total', 'b']);
  });
});
