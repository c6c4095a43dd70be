/**
 * Builds the worker that runs every workflow and activity of the service on one task queue.
 * Used by the worker process (worker/main.ts) and by the tests, which inject their own dependencies.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { dirname, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { Resource } from '@opentelemetry/resources';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import { createActivities, type Activities } from '../activities';
import { activitySettingsOf } from '../activities/settings';
import { RemoteMcpServers } from '../mcp/remote-servers';
import { TaskEntityClient } from '../clients/task-entity';
import { ProjectEntityClient } from '../clients/project-entity';
import { llmSettings, tenantConfig, type Config } from '../common/config';
import { dataConverterFor } from '../common/payload-encryption';
import { clientFor, connectWorker } from '../common/temporal';
import type { Tracing } from '../common/tracing';
import { eventKeyPrefix, eventPublishReplicas, type RedisConnection } from '../common/redis';

/** A module of workflows/: TypeScript sources when run with tsx or vitest, JavaScript when compiled. */
const workflowModule = (name: string) =>
  [`${name}.ts`, `${name}.js`].map((file) => resolve(__dirname, '../workflows', file)).find((path) => existsSync(path))!;

/** Entry of the workflow bundle. */
export const WORKFLOWS_PATH = workflowModule('index');

/**
 * Workflow interceptors, part of every bundle: tracing (workflows/tracing-interceptors.ts), which records
 * nothing when the worker's tracing is off.
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [workflowModule('tracing-interceptors')];

/**
 * Modules evaluated once per worker thread and shared by all its workflows, instead of once for every
 * workflow: our workflow code and the interceptors. Without it, every start and every rebuild of an evicted
 * workflow from its history (a query, a timer, an update on a workflow out of the cache) evaluated the
 * bundle's forty modules again: about 40 % of rebuilding a task entity up to its first workflow task
 * (bench/README.md, "Workflow modules evaluated once per worker thread"). Safe because none of them keeps
 * per-workflow state in module scope (the SDK freezes what they export; the lint forbids a module-level let
 * or var); the tracing interceptors keep theirs on the workflow's globals, and OpenTelemetry, required at
 * run time, is still evaluated per workflow. A module that needs state of its own per workflow must keep
 * it in the workflow function (or on `globalThis`), never at module level.
 */
export const WORKFLOW_PRELOAD_MODULES = [WORKFLOWS_PATH, ...WORKFLOW_INTERCEPTOR_MODULES];

/** How the worker's workflow bundle is made, wherever it is made (workers, `npm run bundle`, benchmarks). */
export const WORKFLOW_BUNDLE_OPTIONS = {
  workflowsPath: WORKFLOWS_PATH,
  workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
  preloadModules: WORKFLOW_PRELOAD_MODULES,
} as const;

/**
 * Bundles the workflows ahead of time into `path` (`npm run bundle`, the Dockerfile, the tests, the soak and
 * the benchmarks), so workers load it through WORKFLOW_BUNDLE_PATH and start without webpack. Returns its size.
 */
export async function writeWorkflowBundle(path: string): Promise<number> {
  const quiet = () => undefined;
  const { code } = await bundleWorkflowCode({
    ...WORKFLOW_BUNDLE_OPTIONS,
    logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: console.warn, error: console.error },
  });
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, code);
  return code.length;
}

/** How long a stopping worker lets running tasks finish; Kubernetes' grace period must be longer. */
export const SHUTDOWN_GRACE_SECONDS = 10;

export interface CreateWorkerOptions {
  config: Config;
  /** Client the activities reach entities with. */
  client: Client;
  redis: RedisConnection;
  /** Defaults to config.TASK_QUEUE. */
  taskQueue?: string;
  /** A prebuilt workflow bundle; otherwise the workflows are bundled at start (a few seconds). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Replaces activities, for tests of a workflow's own logic. */
  activities?: Partial<Activities>;
  /** Wraps the real activities, for fault injection around them (a change that lands, then its call fails). */
  wrapActivities?: (real: Activities) => Partial<Activities>;
  /** Randomness for NOTIFY_FAILURE_RATE, injectable so tests decide outcomes. */
  random?: () => number;
  /** The process's tracing (common/tracing.ts); without it, workflow spans are dropped and activities are not traced. */
  tracing?: Tracing;
  /** A connection to share (one per process, whatever the namespaces: worker/main.ts with TENANTS); default: a new one. */
  connection?: NativeConnection;
}

/** A worker, its connection, and what to close once it has stopped (its MCP servers' connections). */
export interface CreatedWorker {
  worker: Worker;
  connection: NativeConnection;
  release(): Promise<void>;
}

export async function createWorker(options: CreateWorkerOptions): Promise<CreatedWorker> {
  const { config } = options;
  const taskQueue = options.taskQueue ?? config.TASK_QUEUE;
  const connection = options.connection ?? (await connectWorker(config));
  const mcpServers = config.AGENT_MCP_SERVERS?.length ? new RemoteMcpServers(config.AGENT_MCP_SERVERS, { callMs: config.LLM_TIMEOUT_MS, listMs: Math.min(config.LLM_TIMEOUT_MS, 5_000) }) : undefined;
  const real = createActivities({
    tasks: new TaskEntityClient(options.client, taskQueue),
    projects: new ProjectEntityClient(options.client, taskQueue),
    redis: options.redis,
    keyPrefix: config.REDIS_KEY_PREFIX,
    eventKeyPrefix: eventKeyPrefix(config),
    publishReplicas: eventPublishReplicas(config),
    webhookUrl: config.NOTIFY_WEBHOOK_URL,
    timeoutMs: config.NOTIFY_TIMEOUT_MS,
    failureRate: config.NOTIFY_FAILURE_RATE,
    random: options.random,
    streamMaxLength: config.EVENT_STREAM_MAXLEN,
    liveStreamMaxLength: config.LIVE_STREAM_MAXLEN,
    llm: llmSettings(config),
    settings: activitySettingsOf(config),
    mcpServers,
    traced: options.tracing?.enabled ?? false,
  });
  const activities = { ...real, ...options.wrapActivities?.(real), ...options.activities };
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue,
    activities,
    dataConverter: dataConverterFor(config.PAYLOAD_ENCRYPTION_KEYS),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { preloadModules: WORKFLOW_PRELOAD_MODULES } }),
    ...tracingOptions(options.tracing, !options.workflowBundle),
    shutdownGraceTime: `${SHUTDOWN_GRACE_SECONDS} seconds`,
    ...workerSettings(config),
  });
  return { worker, connection, release: async () => mcpServers?.close() };
}

/** The workers of a process: one per tenant (TENANTS), each on its tenant's namespace; one without tenants. */
export interface ServiceWorkers {
  workers: { tenant?: string; worker: Worker }[];
  connection: NativeConnection;
  release(): Promise<void>;
}

/**
 * Runs the workers until all have stopped. When one fails, the others are shut down (their running tasks get
 * the grace time) before the first failure is thrown: a process whose tenant's worker died is restarted whole.
 */
export async function runWorkers(workers: Worker[]): Promise<void> {
  let failure: unknown;
  await Promise.allSettled(
    workers.map((worker) =>
      worker.run().catch((err: unknown) => {
        failure ??= err;
        shutdownWorkers(workers.filter((other) => other !== worker));
      }),
    ),
  );
  if (failure !== undefined) throw failure;
}

/** Asks each worker to stop; one already stopping or stopped (a tenant's worker that failed) is left as it is. */
export function shutdownWorkers(workers: Worker[]): void {
  for (const worker of workers) {
    try {
      worker.shutdown();
    } catch {
      // Already stopping or stopped.
    }
  }
}

/**
 * A worker for each tenant's namespace, on one connection and one workflow bundle (bundled here once when none
 * is given), with its tenant's configuration (common/config.ts tenantConfig: its namespace, its Redis keys) and
 * a client of its namespace; the workflow cache shared between them. Without TENANTS, createWorker's one worker.
 */
export async function createServiceWorkers(options: CreateWorkerOptions): Promise<ServiceWorkers> {
  const tenants = options.config.TENANTS;
  if (tenants === undefined) {
    const { worker, connection, release } = await createWorker(options);
    return { workers: [{ worker }], connection, release };
  }
  const connection = options.connection ?? (await connectWorker(options.config));
  const workflowBundle =
    options.workflowBundle ?? { code: (await bundleWorkflowCode(WORKFLOW_BUNDLE_OPTIONS)).code };
  const created: { tenant?: string; worker: Worker; release(): Promise<void> }[] = [];
  try {
    for (const tenant of tenants) {
      const config = tenantConfig(options.config, tenant);
      // The cache is the process's memory: shared between the workers (WORKER_MAX_CACHED_WORKFLOWS is the process's).
      config.WORKER_MAX_CACHED_WORKFLOWS =
        options.config.WORKER_MAX_CACHED_WORKFLOWS === undefined ? sharedCacheSize(tenants.length) : Math.max(Math.floor(options.config.WORKER_MAX_CACHED_WORKFLOWS / tenants.length), 2);
      const { worker, release } = await createWorker({ ...options, config, client: clientFor(options.client, config), connection, workflowBundle });
      created.push({ tenant: tenant.id, worker, release });
    }
  } catch (err) {
    // The first error is the one to tell (a namespace never registered, say); closing may fail behind it.
    await Promise.all(created.map((c) => c.release()));
    if (!options.connection) await connection.close().catch(() => undefined);
    throw err;
  }
  return { workers: created, connection, release: async () => void (await Promise.all(created.map((c) => c.release()))) };
}

/**
 * Workflow spans reach the process's span processor through the `exporter` sink the workflow interceptors
 * call (dropped when tracing is off); activities get OpenTelemetry's interceptors when it is on.
 */
function tracingOptions(tracing: Tracing | undefined, bundlesAtStart: boolean): Partial<WorkerOptions> {
  return {
    sinks: workflowSpanSinks(tracing),
    interceptors: {
      ...(bundlesAtStart ? { workflowModules: WORKFLOW_INTERCEPTOR_MODULES } : {}),
      ...(tracing?.enabled
        ? {
            activity: [
              (ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) }),
            ],
          }
        : {}),
    },
  };
}

/**
 * The sink the workflow interceptors hand their spans to: the process's span processor when it traces,
 * nothing otherwise. Every worker (replay workers too) registers it, since the bundle's interceptors call it.
 */
export function workflowSpanSinks(tracing?: Tracing): WorkerOptions['sinks'] {
  // A tracing that is off carries a no-op processor already (common/tracing.ts).
  return { exporter: makeWorkflowExporter(tracing?.spanProcessor ?? new NoopSpanProcessor(), tracing?.resource ?? Resource.empty()) };
}

/**
 * The workflow cache each of `workers` workers in one process gets when WORKER_MAX_CACHED_WORKFLOWS is unset:
 * the SDK's default for the heap (600 runs per GiB above 200 MiB), shared, so that a worker per tenant does not
 * multiply the memory a cache takes.
 */
export function sharedCacheSize(workers: number): number {
  const heapMiB = getHeapStatistics().heap_size_limit / 1024 / 1024;
  const sdkDefault = Math.max(Math.floor((Math.max(heapMiB - 200, 0) * 600) / 1024), 10);
  return Math.max(Math.floor(sdkDefault / workers), 10);
}

/** The worker's capacity settings from the configuration; what is unset keeps the SDK's default. */
export function workerSettings(config: Config): Partial<WorkerOptions> {
  return {
    ...(config.WORKER_MAX_CACHED_WORKFLOWS !== undefined ? { maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS } : {}),
    ...(config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS !== undefined
      ? { maxConcurrentWorkflowTaskExecutions: config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS }
      : {}),
    ...(config.WORKER_MAX_CONCURRENT_ACTIVITIES !== undefined ? { maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES } : {}),
  };
}

/** The settings a worker actually runs with, defaults resolved: logged at start, quoted by the benchmarks. */
export function effectiveWorkerSettings(worker: Worker) {
  const { maxCachedWorkflows, workflowThreadPoolSize, reuseV8Context, tuner } = worker.options;
  const slots = (supplier: unknown) => (supplier as { numSlots?: number }).numSlots ?? (supplier as { type?: string }).type;
  const t = tuner as unknown as Record<string, unknown>;
  return {
    maxCachedWorkflows,
    workflowTaskSlots: slots(t.workflowTaskSlotSupplier),
    activityTaskSlots: slots(t.activityTaskSlotSupplier),
    localActivityTaskSlots: slots(t.localActivityTaskSlotSupplier),
    workflowThreadPoolSize,
    reuseV8Context,
  };
}
