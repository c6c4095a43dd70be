/**
 * Once per `npm test`: find (or build) the temporal CLI, start one dev server on free ports with a
 * temporary database, check Redis (or start a private redis-server), and bundle the workflows once so
 * every test worker starts in milliseconds. Test files get these through `inject(...)`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { redisAnswers } from '../../common/redis';
import { freePort, startDevServer } from '../../scripts/dev-server';
import { findTemporalCli } from '../../scripts/go-tools';
import { writeWorkflowBundle } from '../../worker/create-worker';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalCli: string;
    temporalAddress: string;
    redisUrl: string;
    runId: string;
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'task-agent-test-'));
  const cli = await findTemporalCli();
  const server = await startDevServer({
    cli,
    dbFile: join(dir, 'temporal.db'),
    port: await freePort(),
    logFile: join(dir, 'temporal.log'),
  });

  let redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  let redisServer: ChildProcess | undefined;
  if (!(await redisAnswers(redisUrl))) {
    const port = await freePort();
    redisServer = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    redisUrl = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 50 && !(await redisAnswers(redisUrl)); i++) await new Promise((r) => setTimeout(r, 100));
    if (!(await redisAnswers(redisUrl))) throw new Error(`No Redis at REDIS_URL and redis-server did not start on ${port}`);
  }

  const workflowBundlePath = join(dir, 'workflow-bundle.js');
  await writeWorkflowBundle(workflowBundlePath);

  project.provide('temporalCli', cli);
  project.provide('temporalAddress', server.address);
  project.provide('redisUrl', redisUrl);
  project.provide('runId', `${Date.now().toString(36)}`);
  project.provide('workflowBundlePath', workflowBundlePath);

  return async () => {
    await server.stop();
    redisServer?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
}
