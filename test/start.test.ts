/**
 * `npm start` supervises its processes like a Deployment: the seed's Test 5 (kill the pod, the run resumes)
 * inside `npm start` with no action from the user. The launcher runs as users run it (its own dev server on
 * free ports, a temporary DATA_DIR); its worker and its notifications app (which holds the notification) are
 * SIGKILLed while a run waits on that notification, the launcher starts both again, and the run completes.
 * Ctrl-C then stops everything.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../scripts/dev-server';
import { spawnEntry, stopProcess } from '../scripts/processes';
import { eventually, seedTask, uniqueId } from './helpers/harness';
import { BESIDE_MAX_CONNECTIONS } from './helpers/temporal';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let launcher: ChildProcess | undefined;
let dir: string | undefined;
let held: ServerResponse | undefined;
let hits = 0;
// The first notification never gets an answer: the worker dies while it waits. Later ones succeed.
const webhook = createServer((req, res) => {
  req.resume();
  hits++;
  if (hits === 1) held = res;
  else res.writeHead(200).end();
});

afterAll(async () => {
  if (launcher) await stopProcess(launcher, 30_000);
  held?.destroy();
  webhook.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function temporalServerEnv(): NodeJS.ProcessEnv {
  if (inject('temporalServer') === 'dev') return {};
  const database = `task_agent_test_${inject('runId')}_start`;
  appendFileSync(inject('postgresDatabasesFile'), `${database}\n`);
  const url = new URL(inject('postgresUrl'));
  url.pathname = `/${database}`;
  return { TEMPORAL_SERVER: 'postgres', TEMPORAL_POSTGRES_URL: url.toString(), TEMPORAL_POSTGRES_MAX_CONNECTIONS: String(BESIDE_MAX_CONNECTIONS) };
}

describe('npm start', () => {
  it('starts a worker that died again, and the run it had in hand completes; Ctrl-C stops everything', { timeout: 120_000 }, async () => {
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    dir = mkdtempSync(join(tmpdir(), 'task-agent-start-'));
    const port = await freePort();
    launcher = spawnEntry('scripts/start.ts', {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TEMPORAL_CLI: inject('temporalCli'),
        // Where the machine's binaries are, as the test run found them (variables, or the cache).
        ...Object.fromEntries(
          ['TEMPORAL_SERVER_BIN', 'TEMPORAL_SQL_TOOL', 'TEMPORAL_UI_SERVER_BIN', 'XDG_CACHE_HOME'].flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : [])),
        ),
        // The kind of server this run tests; on PostgreSQL, databases of its own (dropped by the teardown).
        ...temporalServerEnv(),
        TEMPORAL_PORT: String(await freePort()),
        TEMPORAL_UI_PORT: String(await freePort()),
        PORT: String(port),
        DATA_DIR: dir,
        REDIS_URL: inject('redisUrl'),
        REDIS_KEY_PREFIX: `${uniqueId('start')}:`,
        NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/`,
        NOTIFY_TIMEOUT_MS: '60000',
        WORKER_METRICS_PORT: '0',
        API_METRICS_PORT: '0',
        WORKER_HEALTH_PORT: '0',
        NOTIFICATIONS_HEALTH_PORT: '0',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let said = '';
    launcher.stdout!.on('data', (chunk: Buffer) => (said += chunk.toString()));
    const pidsOf = (name: string) => [...said.matchAll(new RegExp(`\\[start\\] ${name} started \\(pid (\\d+)\\)`, 'g'))].map((m) => Number(m[1]));
    const workerPids = () => pidsOf('worker');
    const notificationsPids = () => pidsOf('notifications');
    const api = `http://127.0.0.1:${port}`;
    await eventually(async () => said, (text) => text.includes('[start] ready:'), { timeoutMs: 90_000 });

    const taskId = uniqueId('task-002');
    const started = await fetch(`${api}/tasks/process`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(seedTask(taskId, { title: 'Long task', description: 'Testing recovery', assignee: 'bob@example.com', deadline_seconds: 300 })),
    });
    expect(started.status).toBe(200);
    await eventually(async () => hits, (n) => n === 1, { timeoutMs: 30_000 });

    // The pod restarts: the notifications app dies with the notification in hand, and the run's worker with it.
    process.kill(notificationsPids()[0]!, 'SIGKILL');
    process.kill(workerPids()[0]!, 'SIGKILL');
    await eventually(async () => [workerPids(), notificationsPids()], ([w, n]) => w!.length === 2 && n!.length === 2, { timeoutMs: 30_000 });
    expect(said).toMatch(/\[start\] worker exited \(SIGKILL\); starting it again in 1s \(restart 1\)/);
    expect(said).toMatch(/\[start\] notifications exited \(SIGKILL\); starting it again in 1s \(restart 1\)/);

    const done = await eventually(
      () => fetch(`${api}/workflows/task-workflow-${taskId}`).then((r) => r.json() as Promise<Record<string, unknown>>),
      (body) => body.status === 'COMPLETED',
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(done.output).toEqual({ task_id: taskId, status: 'completed', message: 'Task assigned to bob@example.com with deadline reminder' });
    expect(hits).toBe(2);

    // Ctrl-C: everything stops, the launcher exits 0, no worker is started again.
    const second = workerPids()[1]!;
    const exited = new Promise<number | null>((r) => launcher!.once('exit', (code) => r(code)));
    launcher.kill('SIGINT');
    expect(await exited).toBe(0);
    launcher = undefined;
    expect(alive(second)).toBe(false);
    expect(alive(notificationsPids()[1]!)).toBe(false);
    expect(workerPids()).toHaveLength(2);
  });
});
