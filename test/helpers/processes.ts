/** The service's real processes (worker, API) as child processes, for crash, shutdown and deployment tests. */
import type { ChildProcess } from 'node:child_process';
import { spawnEntry } from '../../scripts/processes';
import type { Harness } from './harness';

/**
 * Runs one of the service's entries (or a test's own worker, under test/helpers/) with `env`; ports it would bind
 * default to off unless given. `stdout: 'pipe'` for a child that reports on its stdout.
 */
export function startServiceProcess(
  entry: 'worker/main.ts' | 'api/main.ts' | 'notifications/main.ts' | `test/helpers/${string}.ts`,
  env: Record<string, string>,
  { stdout = 'ignore' }: { stdout?: 'ignore' | 'pipe' } = {},
): ChildProcess {
  return spawnEntry(entry, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', WORKER_METRICS_PORT: '0', WORKER_HEALTH_PORT: '0', API_METRICS_PORT: '0', NOTIFICATIONS_HEALTH_PORT: '0', ...env },
    stdio: ['ignore', stdout, 'inherit'],
  });
}

/** The environment that points a process at a harness's server, task queue and Redis prefix. */
export function harnessEnv(h: Harness): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: h.config.TEMPORAL_ADDRESS!,
    TASK_QUEUE: h.config.TASK_QUEUE,
    REDIS_URL: h.config.REDIS_URL,
    REDIS_KEY_PREFIX: h.config.REDIS_KEY_PREFIX,
    NOTIFY_VIA: h.config.NOTIFY_VIA,
    NOTIFY_NEXUS_ENDPOINT: h.config.NOTIFY_NEXUS_ENDPOINT,
    NOTIFICATIONS_NAMESPACE: h.config.NOTIFICATIONS_NAMESPACE,
    NOTIFICATIONS_TASK_QUEUE: h.config.NOTIFICATIONS_TASK_QUEUE,
  };
}

/** The child's exit code (null when a signal ended it), once it has exited; at once if it already has. */
export const exitOf = (child: ChildProcess) =>
  new Promise<number | null>((r) =>
    child.exitCode !== null || child.signalCode !== null ? r(child.exitCode) : child.once('exit', (code) => r(code)),
  );
