/**
 * Worker crashes under load, with exactly-once accounting. Shared by the CI case
 * (test/reliability/crash.test.ts) and the long soak (`npm run soak`, test/reliability/soak.ts).
 *
 * Processing runs and entity mutations are launched over a window; workers are SIGKILLed at seeded
 * random moments inside it and replaced. Then every claim is checked against what Temporal, the
 * entities, the webhook and the event streams actually hold:
 *  - each processing run completed once (one run per workflow id) with the right result;
 *  - each processed task is `assigned` at version 3 (create, assign, deadline: nothing applied twice);
 *  - each mutation was applied once: the N assignments of an entity returned versions 2..N+1 exactly,
 *    and the entity ends at version N+1 with the assignee of the last one;
 *  - every task was notified (duplicates counted: notification is at least once, by idempotency key);
 *  - every event is in the stream (distinct ids per task and type; duplicates counted).
 */
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { loadConfig } from '../../common/config';
import { taskEntityWorkflowId } from '../../workflows/shared/ids';
import { connectRedis } from '../../common/redis';
import type { Task, TaskProcessingResult } from '../../common/schemas';
import { connectClient } from '../../common/temporal';
import { assignTaskUpdate, createTaskUpdate, getTaskQuery } from '../../entities/task/messages';
import { TaskEntityWorkflow } from '../../entities/task/workflow';
import { TOPICS } from '../../workflows/shared/cloudevents';
import { writeWorkflowBundle } from '../../worker/create-worker';
import { TaskProcessingWorkflow } from '../../workflows/task-processing';
import { exitOf, startServiceProcess } from '../helpers/processes';
import { ensureNexusEndpoint } from '../../notifications/endpoint';
import { streamEvents } from '../helpers/streams';
import { startWebhook } from '../helpers/webhook';

export interface CrashSoakOptions {
  temporalAddress: string;
  redisUrl: string;
  /** Processing runs (TaskProcessingWorkflow), each on its own task. */
  workflows: number;
  /** Task entities that receive mutations, and how many each receives (at most 10: Temporal's in-flight update limit). */
  entities: number;
  mutationsPerEntity: number;
  /** SIGKILLs of the running worker, each followed by a new worker. */
  kills: number;
  /** Launches are spread over this window; the kills fall inside it. */
  windowMs: number;
  seed: number;
  log: (line: string) => void;
  /** A prebuilt workflow bundle; without one, the soak builds its own. */
  workflowBundlePath?: string;
}

export interface CrashSoakReport {
  seed: number;
  killsAt: { ms: number; inFlight: number }[];
  processing: { completed: number; runsPerWorkflowId: number[] };
  mutations: { applied: number; clientRetries: number };
  notifications: { tasks: number; deliveries: number };
  events: { distinct: number; delivered: number };
  durationMs: number;
  /** Every broken promise, in words; empty when all held. */
  violations: string[];
}

/** A small seeded generator (mulberry32), so a run's kill moments can be replayed with its seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runCrashSoak(o: CrashSoakOptions): Promise<CrashSoakReport> {
  const started = Date.now();
  const random = seeded(o.seed);
  const tag = `soak-${o.seed}-${randomBytes(3).toString('hex')}`;
  const config = loadConfig({
    TEMPORAL_ADDRESS: o.temporalAddress,
    REDIS_URL: o.redisUrl,
    REDIS_KEY_PREFIX: `${tag}:`,
    TASK_QUEUE: tag,
    // The notifications app (a process of its own, not killed here) behind an endpoint of this soak's own.
    NOTIFY_NEXUS_ENDPOINT: `${tag}-notify`,
    NOTIFICATIONS_TASK_QUEUE: `${tag}-notifications`,
    LOG_LEVEL: 'silent',
  });
  const violations: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'task-agent-soak-'));
  const webhook = await startWebhook({ delayMs: 200 });
  const client = await connectClient(config);
  const redis = connectRedis(config);
  const workers: ChildProcess[] = [];

  try {
    // Prebuilt workflow code: a replacement worker is polling a second or two after it is spawned.
    let bundlePath = o.workflowBundlePath;
    if (bundlePath === undefined) {
      bundlePath = join(dir, 'workflow-bundle.js');
      await writeWorkflowBundle(bundlePath);
    }
    const workerEnv = {
      TEMPORAL_ADDRESS: o.temporalAddress,
      TASK_QUEUE: config.TASK_QUEUE,
      REDIS_URL: o.redisUrl,
      REDIS_KEY_PREFIX: config.REDIS_KEY_PREFIX,
      NOTIFY_WEBHOOK_URL: webhook.url,
      WORKFLOW_BUNDLE_PATH: bundlePath,
      NOTIFY_NEXUS_ENDPOINT: config.NOTIFY_NEXUS_ENDPOINT,
      NOTIFICATIONS_TASK_QUEUE: config.NOTIFICATIONS_TASK_QUEUE,
    };
    await ensureNexusEndpoint(client.connection, { name: config.NOTIFY_NEXUS_ENDPOINT, namespace: config.NOTIFICATIONS_NAMESPACE, taskQueue: config.NOTIFICATIONS_TASK_QUEUE });
    workers.push(startServiceProcess('notifications/main.ts', workerEnv));
    const startWorker = () => {
      const worker = startServiceProcess('worker/main.ts', workerEnv);
      workers.push(worker);
      return worker;
    };
    let current = startWorker();

    // The entities that take mutations exist before the load starts (version 1).
    const entityIds = Array.from({ length: o.entities }, (_, i) => `${tag}-entity-${i}`);
    await Promise.all(
      entityIds.map((taskId) =>
        client.workflow.executeUpdateWithStart(createTaskUpdate, {
          args: [{ title: 'Soak target', description: 'Takes concurrent assignments' }],
          startWorkflowOperation: new WithStartWorkflowOperation(TaskEntityWorkflow, {
            workflowId: taskEntityWorkflowId(taskId),
            taskQueue: config.TASK_QUEUE,
            args: [{ task_id: taskId }],
            workflowIdConflictPolicy: 'FAIL',
          }),
        }),
      ),
    );

    // The launch plan: processing runs and mutations interleaved, spread evenly over the window.
    type Op = { kind: 'process'; taskId: string } | { kind: 'mutate'; taskId: string; n: number };
    const ops: Op[] = [
      ...Array.from({ length: o.workflows }, (_, i): Op => ({ kind: 'process', taskId: `${tag}-run-${i}` })),
      ...entityIds.flatMap((taskId) => Array.from({ length: o.mutationsPerEntity }, (_, n): Op => ({ kind: 'mutate', taskId, n }))),
    ];
    for (let i = ops.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [ops[i], ops[j]] = [ops[j]!, ops[i]!];
    }

    let inFlight = 0;
    let clientRetries = 0;
    const results = new Map<string, TaskProcessingResult>();
    const mutationVersions = new Map<string, { n: number; version: number; assignee: string | null }[]>();
    const run = async (op: Op) => {
      inFlight++;
      try {
        if (op.kind === 'process') {
          const handle = await client.workflow.start(TaskProcessingWorkflow, {
            workflowId: `task-workflow-${op.taskId}`,
            taskQueue: config.TASK_QUEUE,
            args: [{ task_id: op.taskId, title: 'Soak run', description: 'Processed while workers die', assignee: 'alice@example.com', deadline_seconds: 3600 }],
          });
          results.set(op.taskId, await handle.result());
        } else {
          // A caller that retries with the same update id, as any caller of an update should.
          for (let attempt = 0; ; attempt++) {
            try {
              const task: Task = await client.workflow
                .getHandle(taskEntityWorkflowId(op.taskId))
                .executeUpdate(assignTaskUpdate, { args: [{ assignee: `m${op.n}@example.com` }], updateId: `${op.taskId}/assign-${op.n}` });
              const list = mutationVersions.get(op.taskId) ?? [];
              list.push({ n: op.n, version: task.version, assignee: task.assignee });
              mutationVersions.set(op.taskId, list);
              break;
            } catch (err) {
              if (attempt >= 20) throw err;
              clientRetries++;
              await sleep(500);
            }
          }
        }
      } finally {
        inFlight--;
      }
    };

    const killsAt = Array.from({ length: o.kills }, () => Math.round((0.2 + 0.6 * random()) * o.windowMs)).sort((a, b) => a - b);
    o.log(`seed ${o.seed}: ${o.workflows} runs and ${o.entities}x${o.mutationsPerEntity} mutations over ${o.windowMs} ms; SIGKILL at ${killsAt.join(', ')} ms`);
    const launchStart = Date.now();
    const pending = ops.map((op, i) => sleep((i * o.windowMs) / ops.length).then(() => run(op)));
    const kills: CrashSoakReport['killsAt'] = [];
    for (const at of killsAt) {
      await sleep(Math.max(0, at - (Date.now() - launchStart)));
      current.kill('SIGKILL');
      await exitOf(current);
      kills.push({ ms: Date.now() - launchStart, inFlight });
      o.log(`SIGKILL at ${Date.now() - launchStart} ms with ${inFlight} operations in flight; new worker started`);
      current = startWorker();
    }
    const settled = await Promise.allSettled(pending);
    for (const s of settled) if (s.status === 'rejected') violations.push(`an operation failed: ${String(s.reason)}`);

    // Processing runs: completed, once.
    let completed = 0;
    for (let i = 0; i < o.workflows; i++) {
      const taskId = `${tag}-run-${i}`;
      const result = results.get(taskId);
      if (result?.status === 'completed' && result.task_id === taskId && result.message === 'Task assigned to alice@example.com with deadline reminder') completed++;
      else violations.push(`run ${taskId} ended with ${JSON.stringify(result)}`);
    }
    const runsPerWorkflowId = new Map<string, number>();
    for await (const execution of client.workflow.list({ query: `TaskQueue = '${config.TASK_QUEUE}' AND WorkflowType = 'TaskProcessingWorkflow'` })) {
      runsPerWorkflowId.set(execution.workflowId, (runsPerWorkflowId.get(execution.workflowId) ?? 0) + 1);
    }
    if (runsPerWorkflowId.size !== o.workflows) violations.push(`${runsPerWorkflowId.size} processing workflow ids in visibility, expected ${o.workflows}`);
    for (const [id, runs] of runsPerWorkflowId) if (runs !== 1) violations.push(`${id} has ${runs} runs`);

    // Entities: what the applied operations imply, and nothing applied twice.
    const query = (taskId: string) => client.workflow.getHandle(taskEntityWorkflowId(taskId)).query(getTaskQuery);
    for (let i = 0; i < o.workflows; i++) {
      const taskId = `${tag}-run-${i}`;
      const task = await query(taskId);
      if (task?.status !== 'assigned' || task.assignee !== 'alice@example.com' || task.version !== 3 || task.deadline === null) {
        violations.push(`processed task ${taskId} is ${JSON.stringify(task)}`);
      }
    }
    let applied = 0;
    for (const taskId of entityIds) {
      const answers = (mutationVersions.get(taskId) ?? []).sort((a, b) => a.version - b.version);
      applied += answers.length;
      const versions = answers.map((a) => a.version);
      const expected = Array.from({ length: o.mutationsPerEntity }, (_, k) => k + 2);
      if (JSON.stringify(versions) !== JSON.stringify(expected)) violations.push(`${taskId}: assignments returned versions ${versions.join(',')}`);
      const task = await query(taskId);
      const last = answers.at(-1);
      if (task?.version !== o.mutationsPerEntity + 1 || task.assignee !== last?.assignee) {
        violations.push(`${taskId} ended as ${JSON.stringify(task)}, last applied ${JSON.stringify(last)}`);
      }
    }

    // Notifications: every processed task, by one idempotency key.
    for (let i = 0; i < o.workflows; i++) {
      const keys = webhook.keysByTask.get(`${tag}-run-${i}`);
      if (keys?.size !== 1) violations.push(`${tag}-run-${i} notified under ${keys?.size ?? 0} idempotency keys`);
    }
    const deliveries = [...webhook.deliveries.values()].reduce((a, b) => a + b, 0);

    // Events: each task's created/assigned events, by distinct id (delivery is at least once).
    const expectedEvents = o.workflows * 2 + o.entities * (1 + o.mutationsPerEntity);
    const readEvents = () => streamEvents<{ task_id: string }>(redis, config.REDIS_KEY_PREFIX, TOPICS.tasks);
    let events = await readEvents();
    for (let i = 0; i < 120 && new Set(events.map((e) => e.id)).size < expectedEvents; i++) {
      await sleep(500);
      events = await readEvents();
    }
    const distinct = new Map(events.map((e) => [e.id, e]));
    const byTask = new Map<string, string[]>();
    for (const e of distinct.values()) byTask.set(e.data.task_id, [...(byTask.get(e.data.task_id) ?? []), e.type]);
    const want = (taskId: string, assigned: number) => {
      const types = byTask.get(taskId) ?? [];
      const created = types.filter((t) => t === 'task.created').length;
      const assignedCount = types.filter((t) => t === 'task.assigned').length;
      if (created !== 1 || assignedCount !== assigned || types.length !== 1 + assigned) {
        violations.push(`${taskId} has events ${types.join(',')}`);
      }
    };
    for (let i = 0; i < o.workflows; i++) want(`${tag}-run-${i}`, 1);
    for (const taskId of entityIds) want(taskId, o.mutationsPerEntity);

    const report: CrashSoakReport = {
      seed: o.seed,
      killsAt: kills,
      processing: { completed, runsPerWorkflowId: [...new Set(runsPerWorkflowId.values())] },
      mutations: { applied, clientRetries },
      notifications: { tasks: webhook.keysByTask.size, deliveries },
      events: { distinct: distinct.size, delivered: events.length },
      durationMs: Date.now() - started,
      violations,
    };
    o.log(
      `${completed}/${o.workflows} runs completed once; ${applied}/${o.entities * o.mutationsPerEntity} mutations applied once ` +
        `(${clientRetries} client retries); ${webhook.keysByTask.size} tasks notified in ${deliveries} deliveries; ` +
        `${distinct.size}/${expectedEvents} distinct events (${events.length} delivered); ${violations.length} violations; ${report.durationMs} ms`,
    );
    for (const v of violations.slice(0, 20)) o.log(`VIOLATION: ${v}`);
    return report;
  } finally {
    for (const worker of workers) worker.kill('SIGKILL');
    await Promise.all(workers.map(exitOf));
    webhook.close();
    const keys = await redis.keys(`${config.REDIS_KEY_PREFIX}*`).catch(() => []);
    if (keys.length > 0) await redis.del(...keys).catch(() => undefined);
    redis.disconnect();
    await client.connection.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
