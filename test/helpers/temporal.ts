/**
 * A Temporal server of the kind this test run uses (TEMPORAL_SERVER, read by the global setup), for tests that
 * need their own: restarted with its state, or with a Web UI. On PostgreSQL each gets databases of its own,
 * which the global teardown drops.
 */
import { appendFileSync } from 'node:fs';
import { inject } from 'vitest';
import { startLocalTemporal, type LocalTemporal, type LocalTemporalOptions } from '../../scripts/temporal-server';

let count = 0;

/**
 * Connections a server a test starts may open: it runs beside the run's own server (48) and those of another
 * test file, all on one PostgreSQL with max_connections 100, and serves a handful of workflows.
 */
export const BESIDE_MAX_CONNECTIONS = 16;

export type TestTemporalOptions = Omit<LocalTemporalOptions, 'kind' | 'postgresUrl'>;
/** `options` start it again on the same state: `startTestTemporal(server.options)` is how a test restarts it. */
export type TestTemporal = LocalTemporal & { options: TestTemporalOptions };

export async function startTestTemporal(options: TestTemporalOptions): Promise<TestTemporal> {
  const kind = inject('temporalServer');
  const database = options.database ?? `task_agent_test_${inject('runId')}_${process.pid}_${++count}`;
  if (kind === 'postgres') appendFileSync(inject('postgresDatabasesFile'), `${database}\n`);
  const withState = { ...options, database };
  const server = await startLocalTemporal({ ...withState, kind, postgresUrl: inject('postgresUrl'), dropOnFailure: true, maxConnections: BESIDE_MAX_CONNECTIONS });
  return { ...server, options: withState };
}
