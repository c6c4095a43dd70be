/**
 * Worker process: polls the task queue and runs TaskProcessingWorkflow, the entity workflows and their
 * activities. Stops cleanly on SIGINT/SIGTERM (the SDK stops polling and lets running tasks finish).
 */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { loadConfig, temporalAddress, type Config } from '../common/config';
import { nexusEndpointTarget } from '../notifications/endpoint';
import { createLogger } from '../common/logger';
import { connectRedis } from '../common/redis';
import { connectClient } from '../common/temporal';
import { startTracing } from '../common/tracing';
import { createServiceWorkers, effectiveWorkerSettings, runWorkers } from './create-worker';
import { serveWorkerHealth } from './health';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'worker');
  for (const warning of config.warnings) logger.warn(warning);
  const tracing = startTracing(config, 'task-agent-worker');
  if (tracing.enabled) logger.info({ service: 'task-agent-worker' }, 'tracing: spans exported over OTLP/HTTP');
  // Route the SDK's own logs (including workflow logs) through pino as JSON lines.
  Runtime.install({
    logger: new DefaultLogger(sdkLogLevel(config.LOG_LEVEL), (entry) => {
      const level = entry.level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
      logger[level]({ ...entry.meta }, entry.message);
    }),
    // The SDK's own metrics (task latencies, slots, polls, workflow completions) for Prometheus.
    ...(config.WORKER_METRICS_PORT > 0
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: `0.0.0.0:${config.WORKER_METRICS_PORT}` } } } }
      : {}),
  });

  const client = await connectClient(config);
  const redis = connectRedis(config, logger);
  // One worker per tenant's namespace (TENANTS), on one connection and one bundle; one worker without tenants.
  const { workers, connection, release } = await createServiceWorkers({
    config,
    client,
    redis,
    tracing,
    workflowBundle: config.WORKFLOW_BUNDLE_PATH ? { codePath: config.WORKFLOW_BUNDLE_PATH } : undefined,
  });
  if (config.NOTIFY_VIA === 'nexus') await checkNotifyEndpoint(config, client, logger);
  const health = config.WORKER_HEALTH_PORT > 0 ? serveWorkerHealth(workers.map((w) => w.worker), config.WORKER_HEALTH_PORT) : undefined;
  for (const { tenant, worker } of workers) {
    logger.info(
      { address: temporalAddress(config), namespace: worker.options.namespace, ...(tenant ? { tenant } : {}), taskQueue: config.TASK_QUEUE, settings: effectiveWorkerSettings(worker) },
      'worker started',
    );
  }
  try {
    // Stops on SIGINT/SIGTERM: polling ends, running tasks get shutdownGraceTime to finish.
    await runWorkers(workers.map((w) => w.worker));
  } finally {
    health?.close();
    await release();
    await connection.close();
    await client.connection.close();
    redis.disconnect();
    // Workflow and activity spans still buffered leave before the process does.
    await tracing.shutdown().catch(() => undefined);
    logger.info('worker stopped');
  }
}

/**
 * Processing runs notify through NOTIFY_NEXUS_ENDPOINT; without it they wait at that step (their workflow tasks
 * fail with "endpoint not found" until it exists). Said at start, with the fix; the check needs the operator API,
 * which a restricted credential may not have.
 */
async function checkNotifyEndpoint(config: Config, client: Client, logger: Logger): Promise<void> {
  const target = await nexusEndpointTarget(client.connection, config.NOTIFY_NEXUS_ENDPOINT).catch((err: unknown) => {
    logger.warn({ err: err instanceof Error ? err.message : String(err) }, `could not check the Nexus endpoint ${config.NOTIFY_NEXUS_ENDPOINT}`);
    return null;
  });
  if (target === undefined) {
    logger.error(
      `the Nexus endpoint ${config.NOTIFY_NEXUS_ENDPOINT} does not exist: processing runs wait at their notify step until it does. ` +
        `Create it (npm start, the setup job, or temporal operator nexus endpoint create --name ${config.NOTIFY_NEXUS_ENDPOINT} ` +
        `--target-namespace ${config.NOTIFICATIONS_NAMESPACE} --target-task-queue ${config.NOTIFICATIONS_TASK_QUEUE}), or set NOTIFY_VIA=activity`,
    );
  } else if (target && (target.namespace !== config.NOTIFICATIONS_NAMESPACE || target.taskQueue !== config.NOTIFICATIONS_TASK_QUEUE)) {
    logger.warn({ endpoint: config.NOTIFY_NEXUS_ENDPOINT, target }, 'the Nexus endpoint targets another namespace or task queue than NOTIFICATIONS_NAMESPACE / NOTIFICATIONS_TASK_QUEUE');
  }
}

function sdkLogLevel(level: string): LogLevel {
  switch (level) {
    case 'trace':
      return 'TRACE';
    case 'debug':
      return 'DEBUG';
    case 'warn':
      return 'WARN';
    case 'error':
    case 'fatal':
    case 'silent':
      return 'ERROR';
    default:
      return 'INFO';
  }
}

main().catch((err) => {
  // Configuration and connection problems are explained by their message; anything else gets its stack.
  console.error(err instanceof Error && /^(Invalid configuration|Cannot reach)/.test(err.message) ? err.message : err);
  process.exit(1);
});
