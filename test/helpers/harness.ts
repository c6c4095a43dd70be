/**
 * A test's slice of the real system: the shared dev server and Redis from global setup, its own task
 * queue and Redis key prefix, a real worker (restartable) and the real API on an ephemeral port.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { notificationRunId } from '../../notifications/api';
import type { Hono } from 'hono';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { Cluster } from 'ioredis';
import { pino } from 'pino';
import { inject } from 'vitest';
import type { Activities } from '../../activities';
import { createServiceApi } from '../../api/tenants';
import { loadConfig, type Config } from '../../common/config';
import { connectRedis, type RedisConnection } from '../../common/redis';
import { connectClient } from '../../common/temporal';
import { subscriberFromConfig, type EventSubscriber } from '../../events/subscriber';
import { createServiceWorkers, runWorkers, shutdownWorkers } from '../../worker/create-worker';
import { deleteNexusEndpoint, ensureNexusEndpoint } from '../../notifications/endpoint';
import { createNotificationsWorker, type NotifyActivities } from '../../notifications/worker';

export interface HarnessOptions {
  /** Extra environment for loadConfig (e.g. NOTIFY_WEBHOOK_URL). */
  env?: Record<string, string>;
  /** Replacement activities, only for tests of a workflow's own logic. */
  activities?: Partial<Activities>;
  /** Wraps the real activities (fault injection: delays, a change that lands and then its call fails). */
  wrapActivities?: (real: Activities) => Partial<Activities>;
  random?: () => number;
  /** Start a worker right away (default true). */
  worker?: boolean;
  /** Serve the API (default true). */
  api?: boolean;
  /** The API's port (default: any free one). */
  apiPort?: number;
  /** Run the API's event subscriber (default false). */
  subscriber?: boolean;
  /**
   * Run the notifications app's worker in this process (default true; with NOTIFY_VIA=nexus, the default). Either
   * way the harness has its own Nexus endpoint and notifications task queue; false leaves the app to the test.
   */
  notifications?: boolean;
}

export const uniqueId = (name: string) => `${name}-${inject('runId')}-${randomBytes(3).toString('hex')}`;

export class Harness {
  private running?: { workers: Worker[]; connection: NativeConnection; done: Promise<void> };
  private notificationsApp?: { worker: Worker; done: Promise<void> };
  private server?: ServerType;
  subscriber?: EventSubscriber;
  baseUrl = '';
  private metricsApp?: Hono;
  private closeStreams?: () => Promise<void>;

  private constructor(
    readonly config: Config,
    readonly client: Client,
    readonly redis: RedisConnection,
    private readonly options: HarnessOptions,
  ) {}

  static async start(options: HarnessOptions = {}): Promise<Harness> {
    const config = loadConfig({
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      REDIS_URL: inject('redisUrl'),
      REDIS_KEY_PREFIX: `${uniqueId('test')}:`,
      TASK_QUEUE: uniqueId('tq'),
      // This harness's notifications app: its own endpoint and task queue on the shared server.
      NOTIFY_NEXUS_ENDPOINT: uniqueId('notify'),
      NOTIFICATIONS_TASK_QUEUE: uniqueId('notifications'),
      LOG_LEVEL: 'silent',
      ...options.env,
    });
    const client = await connectClient(config);
    const redis = connectRedis(config, pino({ level: 'silent' }));
    // A cluster client refuses commands until it has the slot map (no offline queue, common/redis.ts), and
    // tests call it straight away. One Redis queues them until it is connected (and some tests start with it
    // unreachable on purpose).
    if (redis instanceof Cluster && redis.status !== 'ready') await once(redis, 'ready', { signal: AbortSignal.timeout(15_000) });
    const harness = new Harness(config, client, redis, options);
    try {
      if (config.NOTIFY_VIA === 'nexus') {
        await harness.createNotifyEndpoint();
        if (options.notifications !== false) await harness.startNotifications();
      }
      if (options.worker !== false) await harness.startWorker();
      if (options.api !== false) await harness.serveApi();
    } catch (err) {
      // What started is stopped, the endpoint removed, the connections closed.
      await harness.close().catch(() => undefined);
      throw err;
    }
    return harness;
  }

  /** This harness's Nexus endpoint, routed to its notifications task queue. */
  async createNotifyEndpoint(): Promise<void> {
    const { NOTIFY_NEXUS_ENDPOINT: name, NOTIFICATIONS_NAMESPACE: namespace, NOTIFICATIONS_TASK_QUEUE: taskQueue } = this.config;
    await ensureNexusEndpoint(this.client.connection, { name, namespace, taskQueue });
  }

  async deleteNotifyEndpoint(): Promise<void> {
    await deleteNexusEndpoint(this.client.connection, this.config.NOTIFY_NEXUS_ENDPOINT);
  }

  async startWorker(): Promise<void> {
    if (this.running) return;
    // One worker, or with TENANTS one per tenant's namespace, as the worker process runs them.
    const { workers, connection, release } = await createServiceWorkers({
      config: this.config,
      client: this.client,
      redis: this.redis,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      activities: this.options.activities,
      wrapActivities: this.options.wrapActivities,
      random: this.options.random,
    });
    const done = runWorkers(workers.map((w) => w.worker)).finally(() => release().then(() => connection.close()));
    this.running = { workers: workers.map((w) => w.worker), connection, done };
  }

  async stopWorker(): Promise<void> {
    if (!this.running) return;
    const { workers, done } = this.running;
    this.running = undefined;
    shutdownWorkers(workers);
    await done.then(() => undefined);
  }

  /** The notifications app's worker (notifications/), with the test's fault injection around its activity. */
  async startNotifications(): Promise<void> {
    if (this.notificationsApp) return;
    const { wrapActivities, activities } = this.options;
    const { worker, connection } = await createNotificationsWorker({
      config: this.config,
      redis: this.redis,
      workflowBundle: { codePath: inject('notificationsBundlePath') },
      wrapActivities: (real) => {
        const notifyAssignee = activities?.notifyAssignee ?? wrapActivities?.(real as unknown as Activities)?.notifyAssignee;
        return notifyAssignee ? { notifyAssignee: notifyAssignee as NotifyActivities['notifyAssignee'] } : {};
      },
      random: this.options.random,
    });
    const done = worker.run().finally(() => connection.close());
    this.notificationsApp = { worker, done };
  }

  /** The notification run of a processing run (keyed by its first run's id, `firstRunId`), in the notifications app's namespace. */
  async notificationRun(workflowId: string, firstRunId?: string): Promise<WorkflowHandle> {
    const described = firstRunId ? undefined : await this.client.workflow.getHandle(workflowId).describe();
    const id = firstRunId ?? described!.raw.workflowExecutionInfo?.firstRunId ?? described!.runId;
    const app = new Client({ connection: this.client.connection, namespace: this.config.NOTIFICATIONS_NAMESPACE });
    return app.workflow.getHandle(notificationRunId(workflowId, id));
  }

  async stopNotifications(): Promise<void> {
    if (!this.notificationsApp) return;
    const { worker, done } = this.notificationsApp;
    this.notificationsApp = undefined;
    worker.shutdown();
    await done;
  }

  private async serveApi(): Promise<void> {
    const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    if (this.options.subscriber) {
      this.subscriber = subscriberFromConfig({ ...this.config, EVENT_SUBSCRIBER: 'on' }, this.redis, logger);
      this.subscriber?.start();
    }
    const { fetch, metrics, close } = createServiceApi({
      config: this.config,
      client: this.client,
      redis: this.redis,
      logger,
      subscriber: this.config.TENANTS ? undefined : this.subscriber,
      subscriberFor: (tenant) => (this.options.subscriber ? subscriberFromConfig({ ...tenant, EVENT_SUBSCRIBER: 'on' }, this.redis, logger) : undefined),
    });
    this.metricsApp = metrics;
    this.closeStreams = close;
    await new Promise<void>((resolve) => {
      this.server = serve({ fetch, hostname: '127.0.0.1', port: this.options.apiPort ?? 0 }, (info: AddressInfo) => {
        this.baseUrl = `http://127.0.0.1:${info.port}`;
        resolve();
      });
    });
  }

  /** The API's Prometheus text, as its own port (API_METRICS_PORT) serves it. */
  async metrics(): Promise<string> {
    return (await this.metricsApp!.request('/metrics')).text();
  }

  fetch(path: string, init?: RequestInit): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, init);
  }

  /** POST a JSON body (a string is sent as is) and parse the JSON answer. */
  async postJson(path: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
    const res = await this.fetch(path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** A request as `who` (their Authorization header), any method; the answer's status, parsed body and ETag. */
  async call(who: { authorization: string }, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await this.fetch(path, {
      method,
      headers: { ...who, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown>, etag: res.headers.get('etag') };
  }

  async getJson(path: string) {
    const res = await this.fetch(path);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  async close(): Promise<void> {
    // The API first, as a deployment drains it: requests still in flight finish (their workers still run) before
    // the client they call through closes. One that waits on a stopped worker is cut after a few seconds.
    await this.subscriber?.stop();
    await this.closeStreams?.();
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      const cut = setTimeout(() => (this.server as { closeAllConnections?: () => void }).closeAllConnections?.(), 5_000);
      this.server.close(() => {
        clearTimeout(cut);
        resolve();
      });
    });
    try {
      await this.stopWorker();
      await this.stopNotifications();
    } finally {
      if (this.config.NOTIFY_VIA === 'nexus') await this.deleteNotifyEndpoint().catch(() => undefined);
    }
    // Clean up this harness's keys when its Redis is reachable (tests may have stopped it or broken its auth).
    if (this.redis.status === 'ready') {
      const keys = await this.redis.keys(`${this.config.REDIS_KEY_PREFIX}*`).catch(() => []);
      if (keys.length > 0) await this.redis.del(...keys).catch(() => undefined);
    }
    this.redis.disconnect();
    await this.client.connection.close();
  }
}

/** Polls `probe` until `accept` holds for its value, or fails with the last value seen. */
export async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  { timeoutMs = 20_000, intervalMs = 200 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (accept(last)) return last;
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The seed's Test 1 body, with a unique task id. */
export function seedTask(taskId: string, overrides: Record<string, unknown> = {}) {
  return {
    task_id: taskId,
    title: 'Review PR #42',
    description: 'Review the authentication refactoring pull request',
    assignee: 'alice@example.com',
    deadline_seconds: 60,
    ...overrides,
  };
}
