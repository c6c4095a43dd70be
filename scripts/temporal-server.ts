/**
 * A local Temporal server of either kind (TEMPORAL_SERVER): the CLI's dev server, or Temporal's own server on
 * PostgreSQL. The launcher, the test setup, the tests that restart a server and the benchmarks start theirs
 * here, so what they prove holds on both.
 */
import { join } from 'node:path';
import { startDevServer, type DevServer } from './dev-server';
import { findTemporalCli, findTemporalServer, findTemporalSqlTool, findTemporalUiServer } from './go-tools';
import { dropDatabases, parsePostgresUrl, startPostgresServer } from './temporal-postgres';

export type TemporalServerKind = 'dev' | 'postgres';

export interface LocalTemporalOptions {
  kind: TemporalServerKind;
  /** The server's state and files: the dev server's database file, the PostgreSQL server's configuration. */
  stateDir: string;
  port: number;
  uiPort?: number;
  namespace?: string;
  /** More namespaces to register; unset: the notifications app's default namespace (notifications/). */
  extraNamespaces?: string[];
  uiCodecEndpoint?: string;
  logFile?: string;
  /**
   * postgres: where the databases live, and the history database's name (visibility is `<name>_visibility`);
   * unset: the URL's path, else `temporal`.
   */
  postgresUrl?: string;
  database?: string;
  log?: (message: string) => void;
  /** postgres: drop the databases when the server does not start (throwaway state: tests, benchmarks). */
  dropOnFailure?: boolean;
  /** postgres: the most connections the server opens to PostgreSQL (TEMPORAL_POSTGRES_MAX_CONNECTIONS); unset: 48. */
  maxConnections?: number;
}

export interface LocalTemporal extends DevServer {
  kind: TemporalServerKind;
  /** What the state is, for people: the database file or the PostgreSQL databases. */
  describeState: string;
  /** Stops the server and deletes its state (test servers; npm start keeps its state). */
  destroy(): Promise<void>;
}

/** NOTIFICATIONS_NAMESPACE's default. */
export const DEFAULT_NOTIFICATIONS_NAMESPACE = 'task-agent-notifications';

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432';

/** Finds (or builds, once per machine) what a kind of server needs; the test setup calls it where nothing times out. */
export async function findServerBinaries(kind: TemporalServerKind, { ui = true, log }: { ui?: boolean; log?: (m: string) => void } = {}) {
  const cli = await findTemporalCli({ log });
  if (kind === 'dev') return { cli };
  return {
    cli,
    server: await findTemporalServer({ log }),
    sqlTool: await findTemporalSqlTool({ log }),
    uiServer: ui ? await findTemporalUiServer({ log }) : undefined,
  };
}

export async function startLocalTemporal(given: LocalTemporalOptions): Promise<LocalTemporal> {
  const options = { ...given, extraNamespaces: given.extraNamespaces ?? [DEFAULT_NOTIFICATIONS_NAMESPACE] };
  const binaries = await findServerBinaries(options.kind, { ui: options.uiPort !== undefined, log: options.log });
  if (options.kind === 'dev') {
    const dbFile = join(options.stateDir, 'temporal.db');
    const server = await startDevServer({ ...options, cli: binaries.cli, dbFile });
    return {
      ...server,
      kind: 'dev',
      describeState: dbFile,
      // The file goes with the folder the caller removes.
      destroy: () => server.stop(),
    };
  }
  const postgresUrl = options.postgresUrl ?? DEFAULT_POSTGRES_URL;
  const database = options.database ?? parsePostgresUrl(postgresUrl).database ?? 'temporal';
  const server = await startPostgresServer({
    ...options,
    binaries: { cli: binaries.cli, server: binaries.server!, sqlTool: binaries.sqlTool!, uiServer: binaries.uiServer },
    postgresUrl,
    database,
  });
  const { host, port } = parsePostgresUrl(postgresUrl);
  return {
    ...server,
    kind: 'postgres',
    describeState: `databases ${database} and ${database}_visibility on PostgreSQL at ${host}:${port}`,
    destroy: async () => {
      await server.stop();
      await dropDatabases(binaries.sqlTool!, parsePostgresUrl(postgresUrl), database);
    },
  };
}
