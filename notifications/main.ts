/**
 * The notifications app's process (`npm run notifications`; its own Deployment and compose service): serves the
 * `notifications` Nexus service on NOTIFICATIONS_NAMESPACE / NOTIFICATIONS_TASK_QUEUE, and notifies by
 * NOTIFY_WEBHOOK_URL or in Redis. Stops cleanly on SIGINT/SIGTERM, as the task worker does.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig, temporalAddress } from '../common/config';
import { createLogger } from '../common/logger';
import { connectRedis } from '../common/redis';
import { serveWorkerHealth } from '../worker/health';
import { createNotificationsWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'notifications');
  for (const warning of config.warnings) logger.warn(warning);
  Runtime.install({
    logger: new DefaultLogger(config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace' ? 'DEBUG' : 'WARN', (entry) => {
      const level = entry.level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
      logger[level]({ ...entry.meta }, entry.message);
    }),
  });
  const redis = connectRedis(config, logger);
  const { worker, connection } = await createNotificationsWorker({
    config,
    redis,
    workflowBundle: config.NOTIFICATIONS_WORKFLOW_BUNDLE_PATH ? { codePath: config.NOTIFICATIONS_WORKFLOW_BUNDLE_PATH } : undefined,
  });
  const health = config.NOTIFICATIONS_HEALTH_PORT > 0 ? serveWorkerHealth(worker, config.NOTIFICATIONS_HEALTH_PORT) : undefined;
  logger.info(
    { address: temporalAddress(config), namespace: config.NOTIFICATIONS_NAMESPACE, taskQueue: config.NOTIFICATIONS_TASK_QUEUE, channel: config.NOTIFY_WEBHOOK_URL ? 'webhook' : 'redis' },
    'notifications app started',
  );
  try {
    await worker.run();
  } finally {
    health?.close();
    await connection.close();
    redis.disconnect();
    logger.info('notifications app stopped');
  }
}

main().catch((err) => {
  console.error(err instanceof Error && /^(Invalid configuration|Cannot reach)/.test(err.message) ? err.message : err);
  process.exit(1);
});
