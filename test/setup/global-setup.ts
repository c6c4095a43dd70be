/**
 * Once per `npm test`: find (or build) the temporal CLI and Jaeger, start one Temporal server on free ports with
 * a temporary state (the CLI's dev server, or with TEMPORAL_SERVER=postgres Temporal's own server on PostgreSQL,
 * built once per machine), check Redis (or start a private redis-server), and bundle the workflows once so
 * every test worker starts in milliseconds. Test files get these through `inject(...)`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { redisAnswers } from '../../common/redis';
import { loadConfig } from '../../common/config';
import { freePort } from '../../scripts/dev-server';
import { findJaeger, findTemporalCli, findTemporalSqlTool } from '../../scripts/go-tools';
import { dropDatabases, parsePostgresUrl } from '../../scripts/temporal-postgres';
import { DEFAULT_NOTIFICATIONS_NAMESPACE, findServerBinaries, startLocalTemporal, type TemporalServerKind } from '../../scripts/temporal-server';
import { TEST_TENANT_NAMESPACES } from '../helpers/tenants';
import { writeWorkflowBundle } from '../../worker/create-worker';
import { writeNotificationWorkflowBundle } from '../../notifications/worker';
import { buildWebPage } from '../../scripts/build-web';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalCli: string;
    temporalAddress: string;
    /** TEMPORAL_SERVER: which kind of server this run's tests start (test/helpers/temporal.ts). */
    temporalServer: TemporalServerKind;
    postgresUrl: string;
    /** Test servers on PostgreSQL list their databases here; the teardown drops them. */
    postgresDatabasesFile: string;
    redisUrl: string;
    runId: string;
    workflowBundlePath: string;
    /** The notifications app's workflow bundle (notifications/workflows.ts). */
    notificationsBundlePath: string;
    jaegerBin: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'task-agent-test-'));
  const { TEMPORAL_SERVER: kind, TEMPORAL_POSTGRES_URL: postgresUrl, TEMPORAL_POSTGRES_MAX_CONNECTIONS: maxConnections } = loadConfig();
  const runId = Date.now().toString(36);
  const cli = await findTemporalCli();
  // Built once per machine (minutes), here where nothing times out: the trace backend of the tracing test,
  // and for TEMPORAL_SERVER=postgres the server, its SQL tool and its Web UI.
  const jaegerBin = await findJaeger();
  await findServerBinaries(kind);
  const server = await startLocalTemporal({
    kind,
    stateDir: dir,
    postgresUrl,
    maxConnections,
    database: `task_agent_test_${runId}`,
    // The notifications app's namespace, and two tenants' for test/tenants.test.ts.
    extraNamespaces: [DEFAULT_NOTIFICATIONS_NAMESPACE, ...TEST_TENANT_NAMESPACES],
    dropOnFailure: true,
    port: await freePort(),
    logFile: join(dir, 'temporal.log'),
  });
  const postgresDatabasesFile = join(dir, 'postgres-databases');
  console.log(`Temporal for the tests: ${kind === 'dev' ? 'the dev server' : `Temporal's server on PostgreSQL (${server.describeState})`}`);
  let redisServer: ChildProcess | undefined;

  const teardown = async () => {
    await server.destroy();
    if (kind === 'postgres' && existsSync(postgresDatabasesFile)) {
      const sqlTool = await findTemporalSqlTool();
      for (const database of new Set(readFileSync(postgresDatabasesFile, 'utf8').split('\n').filter(Boolean))) {
        await dropDatabases(sqlTool, parsePostgresUrl(postgresUrl), database);
      }
    }
    redisServer?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };

  // Whatever fails from here on stops the server and drops its databases before the run ends.
  try {
    let redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
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
    const notificationsBundlePath = join(dir, 'notifications-bundle.js');
    await writeNotificationWorkflowBundle(notificationsBundlePath);
    // The web page the API serves (the browser tests load it).
    await buildWebPage();

    project.provide('temporalCli', cli);
    project.provide('temporalAddress', server.address);
    project.provide('redisUrl', redisUrl);
    project.provide('runId', runId);
    project.provide('temporalServer', kind);
    project.provide('postgresUrl', postgresUrl);
    project.provide('postgresDatabasesFile', postgresDatabasesFile);
    project.provide('workflowBundlePath', workflowBundlePath);
    project.provide('notificationsBundlePath', notificationsBundlePath);
    project.provide('jaegerBin', jaegerBin);
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
