/**
 * Several Temporal servers on one PostgreSQL, as the tests run them (the run's own server, and those of the
 * restart, fault, UI and encryption tests) and as a laptop may (npm start beside a test run). Each server's
 * connection pools must leave room for the others under PostgreSQL's default max_connections of 100.
 * Only on a run with TEMPORAL_SERVER=postgres: the dev server keeps its state in SQLite.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../scripts/dev-server';
import { startTestTemporal, type TestTemporal } from './helpers/temporal';

/** Connections PostgreSQL has open for the given databases, counted by PostgreSQL itself. */
function connectionsTo(databases: string[]): number {
  const list = databases.map((d) => `'${d}', '${d}_visibility'`).join(', ');
  const url = new URL(inject('postgresUrl'));
  const out = execFileSync('psql', ['-h', url.hostname, '-p', url.port || '5432', '-U', decodeURIComponent(url.username) || 'postgres', '-d', 'postgres', '-Atc', `SELECT count(*) FROM pg_stat_activity WHERE datname IN (${list})`], {
    env: { ...process.env, PGPASSWORD: decodeURIComponent(url.password) },
  });
  return Number(out.toString().trim());
}

describe.runIf(inject('temporalServer') === 'postgres')('Temporal servers sharing one PostgreSQL', () => {
  const servers: TestTemporal[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.destroy()));
    dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  });

  it('four more start at once beside the run\'s own and all answer, each holding a bounded number of connections', { timeout: 240_000 }, async () => {
    const started = await Promise.all(
      [1, 2, 3, 4].map(async () => {
        const dir = mkdtempSync(join(tmpdir(), 'task-agent-pg-'));
        dirs.push(dir);
        const server = await startTestTemporal({ stateDir: dir, port: await freePort() });
        servers.push(server);
        return server;
      }),
    );
    for (const server of started) {
      const connection = await Connection.connect({ address: server.address });
      try {
        const listed = await connection.workflowService.listWorkflowExecutions({ namespace: 'default', pageSize: 1 });
        expect(listed.executions).toEqual([]);
      } finally {
        await connection.close();
      }
    }
    // At rest each holds its idle connections only: CONNECTION_POOLS.BESIDE keeps one per store in each of the 4 services.
    const databases = started.map((s) => s.options.database!);
    expect(connectionsTo(databases)).toBeLessThanOrEqual(started.length * 4 * 2);
  });
});
