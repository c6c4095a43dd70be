/**
 * The notifications app's worker: on its own namespace (NOTIFICATIONS_NAMESPACE) and task queue
 * (NOTIFICATIONS_TASK_QUEUE), it serves the `notifications` Nexus service (whose handler makes a first attempt
 * at once), runs the notification workflows and their notifyAssignee activity. Used by notifications/main.ts and
 * by the tests, which run it in-process.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createNotifyActivities } from '../activities/notify';
import type { Config } from '../common/config';
import { dataConverterFor } from '../common/payload-encryption';
import type { RedisConnection } from '../common/redis';
import { connectWorker } from '../common/temporal';
import { ACTIVITY_TIMEOUT_GRACE_MS } from '../workflows/shared/activity-timeouts';
import { notificationsHandler } from './handler';

export type NotifyActivities = ReturnType<typeof createNotifyActivities>;

/** Entry of the app's workflow bundle: TypeScript when run with tsx or vitest, JavaScript when compiled. */
export const NOTIFICATION_WORKFLOWS_PATH = ['workflows.ts', 'workflows.js'].map((file) => resolve(__dirname, file)).find((path) => existsSync(path))!;

/** Bundles the app's workflows ahead of time (the Dockerfile, the tests), as writeWorkflowBundle does for the task worker's. */
export async function writeNotificationWorkflowBundle(path: string): Promise<number> {
  const quiet = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: NOTIFICATION_WORKFLOWS_PATH,
    logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: console.warn, error: console.error },
  });
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, code);
  return code.length;
}

export interface NotificationsWorkerOptions {
  config: Config;
  redis: RedisConnection;
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Wraps or replaces the activity, for the tests' fault injection. */
  wrapActivities?: (real: NotifyActivities) => Partial<NotifyActivities>;
  /** Randomness for NOTIFY_FAILURE_RATE. */
  random?: () => number;
}

export async function createNotificationsWorker(options: NotificationsWorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  const { config } = options;
  const connection = await connectWorker(config);
  const real = createNotifyActivities({
    redis: options.redis,
    keyPrefix: config.REDIS_KEY_PREFIX,
    webhookUrl: config.NOTIFY_WEBHOOK_URL,
    timeoutMs: config.NOTIFY_TIMEOUT_MS,
    failureRate: config.NOTIFY_FAILURE_RATE,
    random: options.random,
  });
  const activities = { ...real, ...options.wrapActivities?.(real) };
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.NOTIFICATIONS_NAMESPACE,
      taskQueue: config.NOTIFICATIONS_TASK_QUEUE,
      activities,
      nexusServices: [
        notificationsHandler({
          timeoutMs: config.NOTIFY_TIMEOUT_MS,
          attemptTimeoutMs: config.NOTIFY_TIMEOUT_MS + ACTIVITY_TIMEOUT_GRACE_MS,
          // The same function as the activity, so a test's fault injection meets the first attempt too.
          attempt: (request, attempt) => activities.notifyAssignee(request, attempt),
        }),
      ],
      dataConverter: dataConverterFor(config.PAYLOAD_ENCRYPTION_KEYS),
      ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: NOTIFICATION_WORKFLOWS_PATH }),
      shutdownGraceTime: '10 seconds',
    });
    return { worker, connection };
  } catch (err) {
    await connection.close();
    throw err;
  }
}
