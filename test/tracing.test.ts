/**
 * One request, one trace, in a real Jaeger: the API and the worker run as their own processes exporting
 * over OTLP/HTTP, and Jaeger's query API must show one `POST /tasks/process` as a single trace holding the
 * HTTP span, the processing workflow, each of its activities, the entity updates they made, and the
 * publication and consumption of every event the run caused. Log lines written in those spans name the trace.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../scripts/dev-server';
import { spawnEntry, stopProcess } from '../scripts/processes';
import { TaskEntityClient } from '../clients/task-entity';
import { Harness, eventually, seedTask, uniqueId } from './helpers/harness';
import { Jaeger, parentOf, tag, type JaegerSpan } from './helpers/jaeger';
import { harnessEnv } from './helpers/processes';

let h: Harness;
let jaeger: Jaeger;
let api: ChildProcess;
let worker: ChildProcess;
let apiUrl: string;
const logLines: Record<string, unknown>[] = [];

function collectLogs(child: ChildProcess): void {
  let rest = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      try {
        logLines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
  });
}

beforeAll(async () => {
  jaeger = await Jaeger.start(inject('jaegerBin'));
  h = await Harness.start({ worker: false, api: false });
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...harnessEnv(h),
    LOG_LEVEL: 'info',
    OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
    // Spans leave within a fifth of a second instead of five.
    OTEL_BSP_SCHEDULE_DELAY: '200',
    WORKER_METRICS_PORT: '0',
    API_METRICS_PORT: '0',
    WORKER_HEALTH_PORT: '0',
  };
  worker = spawnEntry('worker/main.ts', { env: { ...env, WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath') }, stdio: ['ignore', 'pipe', 'inherit'] });
  api = spawnEntry('api/main.ts', { env: { ...env, PORT: String(port), HOST: '127.0.0.1', EVENT_CONSUMER_GROUP: uniqueId('group') }, stdio: ['ignore', 'pipe', 'inherit'] });
  collectLogs(worker);
  collectLogs(api);
  apiUrl = `http://127.0.0.1:${port}`;
  await eventually(() => fetch(`${apiUrl}/readyz`).then((r) => r.status, () => 0), (s) => s === 200, { timeoutMs: 60_000 });
});

afterAll(async () => {
  await Promise.all([api && stopProcess(api, 15_000), worker && stopProcess(worker, 15_000)]);
  await h?.close();
  await jaeger?.stop();
});

const names = (spans: JaegerSpan[]) => new Set(spans.map((s) => s.operationName));

/** `POST /tasks/process` through the traced API, and its run to completion. */
async function processThroughApi(taskId: string): Promise<void> {
  const started = await fetch(`${apiUrl}/tasks/process`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(seedTask(taskId)) });
  expect(started.status).toBe(200);
  expect(await h.client.workflow.getHandle(`task-workflow-${taskId}`).result()).toMatchObject({ status: 'completed' });
}

/** The activity type of a local activity's marker (the run's entity steps are local activities). */
function localActivityType(event: { markerRecordedEventAttributes?: { markerName?: string | null; details?: Record<string, { payloads?: { data?: Uint8Array | null }[] | null }> | null } | null }): string | undefined {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return undefined;
  const data = marker.details?.data?.payloads?.[0]?.data;
  return data ? (JSON.parse(Buffer.from(data).toString()) as { activity_type?: string }).activity_type : undefined;
}

describe('tracing into Jaeger', () => {
  it('shows one POST /tasks/process as one trace, from the HTTP span to the consumption of its events', { timeout: 120_000 }, async () => {
    const taskId = uniqueId('traced');
    const workflowId = `task-workflow-${taskId}`;
    await processThroughApi(taskId);

    // What the run did, from Temporal: its activities, the updates its task entity took, the events it caused.
    const activities = new Set<string>();
    for (const event of (await h.client.workflow.getHandle(workflowId).fetchHistory()).events ?? []) {
      const type = event.activityTaskScheduledEventAttributes?.activityType?.name ?? localActivityType(event);
      if (type) activities.add(type);
    }
    const updates = new Set<string>();
    for (const event of (await h.client.workflow.getHandle(`task-entity-${taskId}`).fetchHistory()).events ?? []) {
      const name = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name;
      if (name) updates.add(name);
    }
    const eventIds = (await h.redis.xrange(`${h.config.REDIS_KEY_PREFIX}stream:task-events`, '-', '+'))
      .map(([, fields]) => JSON.parse(fields[fields.indexOf('event') + 1]!) as { id: string; data: { task_id: string } })
      .filter((e) => e.data.task_id === taskId)
      .map((e) => e.id);
    expect(activities.size).toBeGreaterThanOrEqual(3);
    expect(updates).toContain('handOverTask');
    expect(eventIds.length).toBeGreaterThanOrEqual(2);

    // The one trace the request started, once every span in it has arrived.
    const [httpTrace] = await eventually(
      () => jaeger.traces('task-agent-api', 'POST /tasks/process'),
      (traces) => traces.length === 1,
      { timeoutMs: 30_000 },
    );
    const traceId = httpTrace![0]!.traceID;
    const processed = (spans: JaegerSpan[]) => new Set(spans.filter((s) => s.operationName === 'process task-events').map((s) => tag(s, 'messaging.message.id')));
    // Polled until complete; a failure names what is missing rather than printing every span.
    let spans: JaegerSpan[] = [];
    const missing = (all: JaegerSpan[]) => [
      ...[...activities].map((a) => `RunActivity:${a}`),
      ...[...updates].map((u) => `HandleUpdate:${u}`),
      'RunWorkflow:TaskProcessingWorkflow',
      // The call that started the task entity with the hand-over: its events' publications are its children.
      'UpdateWithStartWorkflow:handOverTask',
    ].filter((name) => !names(all).has(name)).concat(eventIds.filter((id) => !processed(all).has(id)).map((id) => `process of event ${id}`));
    await eventually(
      async () => missing((spans = await jaeger.trace(traceId))),
      (left) => left.length === 0,
      { timeoutMs: 30_000 },
    );
    const byId = new Map(spans.map((s) => [s.spanID, s]));
    const the = (name: string) => spans.find((s) => s.operationName === name)!;

    // The HTTP span is the root, named by the route pattern, in the API's service.
    const http = the('POST /tasks/process');
    expect(parentOf(http)).toBeUndefined();
    expect(http.service).toBe('task-agent-api');
    expect(tag(http, 'http.route')).toBe('/tasks/process');
    expect(tag(http, 'http.response.status_code')).toBe(200);
    // The workflow started from it, and ran in the worker's service.
    const start = the('StartWorkflow:TaskProcessingWorkflow');
    expect(parentOf(start)).toBe(http.spanID);
    expect(tag(start, 'temporalWorkflowId')).toBe(workflowId);
    const run = the('RunWorkflow:TaskProcessingWorkflow');
    expect(run.service).toBe('task-agent-worker');
    expect(parentOf(run)).toBe(start.spanID);
    // Every activity, and every entity update (sent by an activity, handled in the entity workflow).
    for (const activity of activities) expect(names(spans)).toContain(`RunActivity:${activity}`);
    for (const update of updates) expect(names(spans)).toContain(`HandleUpdate:${update}`);
    // Every event: published as a child of the call that caused it, consumed as a child of its publication. Here
    // that is the hand-over's update-with-start: the entity made the task from the start's input as it started
    // (entities/task/workflow.ts applyStartingUpdate); the run's own span, current there, ends only with the run.
    for (const id of eventIds) {
      const consumed = spans.find((s) => s.operationName === 'process task-events' && tag(s, 'messaging.message.id') === id)!;
      expect(consumed.service).toBe('task-agent-api');
      const published = byId.get(parentOf(consumed)!)!;
      expect(published.operationName).toBe('publish task-events');
      expect(published.service).toBe('task-agent-worker');
      expect(byId.get(parentOf(published)!)?.operationName).toBe('UpdateWithStartWorkflow:handOverTask');
    }
    // Nothing of the run went into another trace: the API's other traces hold none of its events.
    for (const other of await jaeger.traces('task-agent-api', 'process task-events')) {
      if (other[0]!.traceID !== traceId) expect(eventIds.filter((id) => processed(other).has(id))).toEqual([]);
    }

    // An event no traced call caused (a task created straight through an untraced client) starts no trace.
    const untracedTask = uniqueId('untraced');
    await new TaskEntityClient(h.client, h.config.TASK_QUEUE).create(untracedTask, { title: 'Untraced', description: 'No context' });
    await eventually(() => Promise.resolve(logLines.some((l) => l.msg === 'event received' && (l as { source?: string }).source?.endsWith(untracedTask))), Boolean);
    await new Promise((r) => setTimeout(r, 1_500));
    const published = (await jaeger.traces('task-agent-worker', 'publish task-events')).flat();
    expect(published.filter((s) => s.operationName === 'publish task-events').length).toBe(eventIds.length);
    const consumed = (await jaeger.traces('task-agent-api', 'process task-events')).flat();
    expect(consumed.filter((s) => s.operationName === 'process task-events').length).toBe(eventIds.length);

    // Log lines written within the trace carry its ids: the request's line, and each event's.
    const inTrace = logLines.filter((l) => l.trace_id === traceId);
    expect(inTrace.find((l) => l.msg === 'request' && l.path === '/tasks/process')).toMatchObject({ span_id: http.spanID });
    for (const id of eventIds) {
      const line = inTrace.find((l) => l.msg === 'event received' && l.eventId === id);
      expect(line, `log line of event ${id}`).toBeDefined();
      expect(spans.find((s) => s.spanID === line!.span_id)?.operationName).toBe('process task-events');
    }
  });

  // The worker shares its workflow modules among all its workflows (WORKFLOW_PRELOAD_MODULES); what tracing
  // loads is each workflow's own. Were it shared, a traced run that ended would take the tracing of every
  // later workflow down with it (its end disables its context manager), and an entity's first traced update
  // after that would publish its event outside the trace.
  it("traces a request to an entity after another traced workflow ended: each workflow's tracing is its own", { timeout: 60_000 }, async () => {
    await processThroughApi(uniqueId('ended'));

    const taskId = uniqueId('later');
    await new TaskEntityClient(h.client, h.config.TASK_QUEUE).create(taskId, { title: 'Traced later', description: 'Its first traced change comes now' });
    const changed = await fetch(`${apiUrl}/tasks/${taskId}/status`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'completed' }),
    });
    expect(changed.status).toBe(200);
    const isPut = (s: JaegerSpan) => s.operationName.startsWith('PUT /tasks/') && tag(s, 'http.route') !== undefined;
    const [trace] = await eventually(
      async () => (await jaeger.traces('task-agent-api')).filter((t) => t.some((s) => isPut(s) && tag(s, 'url.path') === `/tasks/${taskId}/status`)),
      (traces) => traces.length === 1,
      { timeoutMs: 30_000 },
    );
    const traceId = trace![0]!.traceID;
    // The worker's spans and the API's reach Jaeger in batches of their own: wait for both ends of the event.
    const spans = await eventually(
      () => jaeger.trace(traceId),
      (all) => ['publish task-events', 'process task-events'].every((name) => all.some((s) => s.operationName === name)),
      { timeoutMs: 30_000 },
    );
    const byId = new Map(spans.map((s) => [s.spanID, s]));
    const published = spans.find((s) => s.operationName === 'publish task-events')!;
    expect(byId.get(parentOf(published)!)?.operationName).toBe('HandleUpdate:updateStatus');
  });
});
