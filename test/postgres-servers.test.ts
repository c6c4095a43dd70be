/**
 * Several Temporal servers on one PostgreSQL, as the tests run them (the run's own server, and those of the
 * restart, fault, UI, encryption and npm start tests) and as a laptop may (npm start beside a test run): each
 * stays within the connections it was given (TEMPORAL_POSTGRES_MAX_CONNECTIONS), so together they stay under
 * PostgreSQL's max_connections. Only on a run with TEMPORAL_SERVER=postgres: the dev server keeps its state in
 * SQLite.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../scripts/dev-server';
import { parsePostgresUrl, type PostgresDatabase } from '../scripts/temporal-postgres';
import { BESIDE_MAX_CONNECTIONS, startTestTemporal, type TestTemporal } from './helpers/temporal';

/** Connections PostgreSQL has open to a server's two databases, as PostgreSQL counts them (psql, as pg_dump elsewhere). */
async function connectionsTo(db: PostgresDatabase, database: string): Promise<number> {
  const query = `SELECT count(*) FROM pg_stat_activity WHERE datname IN ('${database}', '${database}_visibility')`;
  const { stdout } = await promisify(execFile)('psql', ['-h', db.host, '-p', String(db.port), '-U', db.user, '-d', 'postgres', '-Atc', query], {
    env: { ...process.env, ...(db.password ? { PGPASSWORD: db.password } : {}) },
  });
  return Number(stdout.trim());
}

describe.runIf(inject('temporalServer') === 'postgres')('Temporal servers sharing one PostgreSQL', () => {
  const servers: TestTemporal[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.destroy()));
    dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  });

  it('two more start at once beside the run\'s own, take work, and never hold more connections than they were given', { timeout: 240_000 }, async () => {
    const started = await Promise.all(
      [1, 2].map(async () => {
        const dir = mkdtempSync(join(tmpdir(), 'task-agent-pg-'));
        dirs.push(dir);
        const server = await startTestTemporal({ stateDir: dir, port: await freePort() });
        servers.push(server);
        return server;
      }),
    );
    const db = parsePostgresUrl(inject('postgresUrl'));
    let most = 0;
    const sampling = (async () => {
      for (let i = 0; i < 40; i++) {
        most = Math.max(most, ...(await Promise.all(started.map((s) => connectionsTo(db, s.options.database!)))));
        await sleep(250);
      }
    })();
    // Load while sampling: workflow starts and visibility queries on both.
    await Promise.all(
      started.map(async (server) => {
        const connection = await Connection.connect({ address: server.address });
        try {
          const client = new Client({ connection });
          for (let i = 0; i < 20; i++) {
            await client.workflow.start('NoWorkerPollsThis', { taskQueue: 'nobody', workflowId: `pg-servers-${i}`, args: [] });
            await client.workflow.count('WorkflowType = "NoWorkerPollsThis"');
          }
        } finally {
          await connection.close();
        }
      }),
    );
    await sampling;
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(BESIDE_MAX_CONNECTIONS);
  });
});
