/**
 * Temporal's own server on PostgreSQL, the shape production runs (k8s/production/temporal-values.yaml), for
 * `TEMPORAL_SERVER=postgres npm start` and `TEMPORAL_SERVER=postgres npm test`:
 *  1. the databases: `temporal-sql-tool` creates them and applies the schemas embedded in it (what the Helm
 *     chart's schema jobs run), every time, so a newer tool upgrades an older schema;
 *  2. the server: every service in one process, several history shards, SQL visibility, eager activities
 *     (DYNAMIC_CONFIG), its configuration written next to its log;
 *  3. the namespace and search attributes: the temporal CLI commands the Kubernetes Job runs
 *     (scripts/namespace-setup.ts);
 *  4. optionally the Web UI (Temporal's ui-server), pointed at the server and the codec endpoint.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../workflows/shared/search-attributes';
import { DYNAMIC_CONFIG, namespaceReady, serverAnswers, type DevServer } from './dev-server';
import { registerNamespace } from './namespace-setup';
import { stopProcess } from './processes';

/** Fixed when the databases are created: a server with another count refuses them. */
export const HISTORY_SHARDS = 4;

export interface PostgresServerOptions {
  /** The temporal-server, temporal-sql-tool, temporal-ui-server (when uiPort is set) and temporal CLI binaries. */
  binaries: { server: string; sqlTool: string; uiServer?: string; cli: string };
  /** postgres://user[:password]@host[:port][/database]; the databases are created there. */
  postgresUrl: string;
  /** The history database; visibility is `${database}_visibility`. Same name, same state across restarts. */
  database: string;
  /** Where the server's and the UI's configuration files go. */
  stateDir: string;
  port: number;
  uiPort?: number;
  /** Prometheus endpoint of the server; none when omitted. */
  metricsPort?: number;
  ip?: string;
  namespace?: string;
  /** More namespaces to register (the notifications app's). */
  extraNamespaces?: string[];
  uiCodecEndpoint?: string;
  logFile?: string;
  startTimeoutMs?: number;
  /** Drop the databases when the server does not start (throwaway databases: tests, benchmarks). */
  dropOnFailure?: boolean;
  /** The most connections the server opens to PostgreSQL (TEMPORAL_POSTGRES_MAX_CONNECTIONS); unset: 48. */
  maxConnections?: number;
}

export const DEFAULT_MAX_CONNECTIONS = 48;

export interface PostgresDatabase {
  host: string;
  port: number;
  user: string;
  password?: string;
  /** The URL's path, when it names one: the history database. */
  database?: string;
}

export function parsePostgresUrl(url: string): PostgresDatabase {
  const parsed = new URL(url);
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new Error(`TEMPORAL_POSTGRES_URL must be postgres://user[:password]@host[:port][/database], not ${parsed.protocol}`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database && !/^[a-z_][a-z0-9_]{0,48}$/.test(database)) {
    throw new Error(`TEMPORAL_POSTGRES_URL: the database name ${JSON.stringify(database)} must be lower case letters, digits and _ (up to 49)`);
  }
  return {
    ...(database ? { database } : {}),
    host: parsed.hostname || '127.0.0.1',
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username || 'postgres'),
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
  };
}

const visibilityDatabase = (database: string) => `${database}_visibility`;

function sqlToolArgs(db: PostgresDatabase, database: string): string[] {
  return ['--plugin', 'postgres12', '--ep', db.host, '--port', String(db.port), '--user', db.user, '--db', database];
}

/** The environment the sql tool reads its password from, so it appears in no process listing. */
const sqlToolEnv = (db: PostgresDatabase): NodeJS.ProcessEnv => ({ ...process.env, ...(db.password ? { SQL_PASSWORD: db.password } : {}) });

/** Creates both databases when missing and brings their schemas to the tool's newest version. */
export async function setupDatabases(sqlTool: string, db: PostgresDatabase, database: string): Promise<void> {
  const run = (args: string[]) => promisify(execFile)(sqlTool, args, { env: sqlToolEnv(db), maxBuffer: 16 * 1024 * 1024 });
  for (const [name, schema] of [
    [database, 'postgresql/v12/temporal'],
    [visibilityDatabase(database), 'postgresql/v12/visibility'],
  ] as const) {
    const args = sqlToolArgs(db, name);
    try {
      await run([...args, 'create-database']);
    } catch (err) {
      // Created on an earlier start: the state is kept, like the dev server's database file.
      if (!/already exists/.test(outputOf(err))) throw new Error(`temporal-sql-tool could not create database ${name}:\n${outputOf(err)}`);
    }
    try {
      await run([...args, 'setup-schema', '--version', '0.0']);
      await run([...args, 'update-schema', '--schema-name', schema]);
    } catch (err) {
      throw new Error(`temporal-sql-tool could not apply the ${schema} schema to ${name}:\n${outputOf(err)}`);
    }
  }
}

/** Drops both databases (the tests' servers; npm start keeps its state); says which it could not drop. */
export async function dropDatabases(sqlTool: string, db: PostgresDatabase, database: string): Promise<void> {
  for (const name of [database, visibilityDatabase(database)]) {
    await promisify(execFile)(sqlTool, [...sqlToolArgs(db, name), 'drop-database', '--force'], { env: sqlToolEnv(db) }).catch((err: unknown) => {
      // Gone already is fine; anything else (a server still connected) is worth a line, not a failure.
      if (!/does not exist/.test(outputOf(err))) console.error(`Could not drop database ${name}: ${outputOf(err).split('\n').slice(-3).join(' ')}`);
    });
  }
}

function outputOf(err: unknown): string {
  const { stdout, stderr } = err as { stdout?: string; stderr?: string };
  return `${stdout ?? ''}${stderr ?? ''}`.trim().slice(-4000) || String(err);
}

interface ServicePorts {
  grpcPort: number;
  membershipPort: number;
  httpPort?: number;
}

/** Connections each of the server's four services may open: to the history store and to visibility. */
export type ConnectionPools = Record<'default' | 'visibility', number>;

const SERVICES = 4;

/**
 * The pools that keep one server within `maxConnections` (TEMPORAL_POSTGRES_MAX_CONNECTIONS). Each of the
 * server's four services has pools of its own, so the server repository's 20 + 10 per service (all kept idle)
 * hold about 35 connections per idle server and up to 120 under load: two or three servers on one
 * PostgreSQL (the tests run several) pass its default max_connections of 100, and the next to start dies with
 * "no usable database connection found". A third of each service's share goes to visibility. Connections are
 * kept open (serverConfig: as many idle as open): closing idle ones cost a third of the throughput (bench
 * --quick, bare Temporal, 50 in flight: 10 runs/s with 48 kept open, as with the repository's pools, 6.2 with
 * 2 + 1 of each 8 + 4 kept).
 */
export function connectionPools(maxConnections: number): ConnectionPools {
  const perService = Math.max(2, Math.floor(maxConnections / SERVICES));
  const visibility = Math.max(1, Math.floor(perService / 3));
  return { default: perService - visibility, visibility };
}

/** Where the server listens, and the address to reach it at (0.0.0.0 listens everywhere, 127.0.0.1 reaches it). */
function endpoints(options: Pick<PostgresServerOptions, 'ip'>) {
  const ip = options.ip ?? '127.0.0.1';
  return { ip, host: ip === '0.0.0.0' ? '127.0.0.1' : ip };
}

/** The server's configuration: the development-postgres12.yaml of the server's repository, made to run beside this service. */
export function serverConfig(options: PostgresServerOptions, ports: Ports, dynamicConfigFile: string) {
  const db = parsePostgresUrl(options.postgresUrl);
  const { ip, host } = endpoints(options);
  const pools = connectionPools(options.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
  const datastore = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${db.host}:${db.port}`,
      connectProtocol: 'tcp',
      user: db.user,
      ...(db.password ? { password: db.password } : {}),
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const service = ({ grpcPort, membershipPort, httpPort }: ServicePorts) => ({
    rpc: { grpcPort, membershipPort, bindOnIP: ip, ...(httpPort ? { httpPort } : {}) },
  });
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: HISTORY_SHARDS,
      datastores: {
        'postgres-default': datastore(options.database, pools.default),
        'postgres-visibility': datastore(visibilityDatabase(options.database), pools.visibility),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: host },
      // Not the repository file's 127.0.0.1:8000: that is the API's port.
      ...(options.metricsPort
        ? { metrics: { prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `${ip}:${options.metricsPort}` } } }
        : {}),
    },
    services: {
      frontend: service(ports.frontend),
      history: service(ports.history),
      matching: service(ports.matching),
      worker: service(ports.worker),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `${host}:${options.port}` },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    // Disabled archival: no provider or URI may be left, or the server refuses to start.
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
}

/** DYNAMIC_CONFIG (`key=value` as the CLI takes it) in the server's file format, and where Nexus calls back. */
export function dynamicConfigYaml(httpAddress?: string): string {
  const entries = DYNAMIC_CONFIG.map((setting) => {
    const [key, value] = setting.split('=') as [string, string];
    return [key, [{ value: JSON.parse(value) as unknown }]] as const;
  });
  return stringify({ ...Object.fromEntries(entries), ...(httpAddress ? nexusCallbackConfig(httpAddress) : {}) });
}

/**
 * Where a Nexus operation's completion is delivered (the processing run's notify step, notifications/): the
 * dev server sets this itself; server 1.29 needs the frontend's HTTP address as the callback template, and
 * that address allowed. (From 1.30 `useSystemCallbackURL` alone does it; 1.29 takes it too when it knows it.)
 */
export function nexusCallbackConfig(httpAddress: string) {
  return {
    'component.nexusoperations.useSystemCallbackURL': [{ value: true }],
    'component.nexusoperations.callback.endpoint.template': [{ value: `http://${httpAddress}/namespaces/{{.NamespaceName}}/nexus/callback` }],
    'component.callbacks.allowedAddresses': [{ value: [{ Pattern: httpAddress, AllowInsecure: true }] }],
  };
}

function uiConfig(options: PostgresServerOptions) {
  const { ip, host } = endpoints(options);
  return {
    temporalGrpcAddress: `${host}:${options.port}`,
    host: ip,
    port: options.uiPort,
    enableUi: true,
    defaultNamespace: options.namespace ?? 'default',
    refreshInterval: '1m',
    notifyOnNewVersion: false,
    hideLogs: true,
    cors: { cookieInsecure: true, unsafeAllowAllOrigins: true },
    codec: { endpoint: options.uiCodecEndpoint ?? '' },
  };
}

function searchAttributesUsable(address: string, namespace: string): Promise<boolean> {
  const query = Object.keys(CUSTOM_SEARCH_ATTRIBUTES).map((name) => `${name} = 'readiness-probe'`).join(' AND ');
  return serverAnswers(address, (connection) => connection.workflowService.listWorkflowExecutions({ namespace, query, pageSize: 1 }));
}

/** Starts the server (and the UI when uiPort is set); resolves once the namespace answers with its search attributes. */
export async function startPostgresServer(options: PostgresServerOptions): Promise<DevServer> {
  const db = parsePostgresUrl(options.postgresUrl);
  try {
    return await startOnDatabases(options, db);
  } catch (err) {
    if (options.dropOnFailure) await dropDatabases(options.binaries.sqlTool, db, options.database);
    throw err;
  }
}

async function startOnDatabases(options: PostgresServerOptions, db: PostgresDatabase): Promise<DevServer> {
  await setupDatabases(options.binaries.sqlTool, db, options.database);

  const { host } = endpoints(options);
  const address = `${host}:${options.port}`;
  const configDir = join(options.stateDir, 'temporal-config');
  mkdirSync(configDir, { recursive: true });
  const dynamicConfigFile = join(configDir, 'dynamic-config.yaml');
  const ports = await servicePorts(configDir, options.port);
  writeFileSync(dynamicConfigFile, dynamicConfigYaml(`${host}:${ports.frontend.httpPort}`));
  writeFileSync(join(configDir, 'task-agent.yaml'), stringify(serverConfig(options, ports, dynamicConfigFile)), { mode: 0o600 });

  const sink = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-256 * 1024); // the end says why it stopped
    sink?.write(chunk);
  };
  const started = (bin: string, args: string[]) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    return child;
  };
  const server = started(options.binaries.server, ['--root', options.stateDir, '--config', 'temporal-config', '--env', 'task-agent', '--allow-no-auth', 'start']);
  let ui: ChildProcess | undefined;
  const stop = async (graceMs = 10_000) => {
    if (ui) await stopProcess(ui, graceMs);
    await stopProcess(server, graceMs);
    sink?.end();
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
  const namespace = options.namespace ?? 'default';
  try {
    await until(() => namespaceReady(address, 'temporal-system'), server, deadline, () => output);
    for (const name of [namespace, ...(options.extraNamespaces ?? [])]) await registerNamespace({ cli: options.binaries.cli, address, namespace: name });
    // Registered is not yet usable: each service reads namespaces and their search attributes through a
    // cache refreshed every few seconds. Ready once the frontend takes a query on every attribute.
    await until(() => searchAttributesUsable(address, namespace), server, deadline, () => output);
    if (options.uiPort !== undefined) {
      if (!options.binaries.uiServer) throw new Error('uiPort needs the temporal-ui-server binary');
      const uiDir = join(options.stateDir, 'ui-config');
      mkdirSync(uiDir, { recursive: true });
      writeFileSync(join(uiDir, 'task-agent.yaml'), stringify(uiConfig(options)));
      ui = started(options.binaries.uiServer, ['--root', options.stateDir, '--config', 'ui-config', '--env', 'task-agent', 'start']);
      const uiUrl = `http://${host}:${options.uiPort}/`;
      await until(() => fetch(uiUrl).then((r) => r.ok, () => false), ui, deadline, () => output);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    address,
    uiUrl: options.uiPort !== undefined ? `http://localhost:${options.uiPort}` : undefined,
    process: server,
    stop,
  };
}

type Ports = Record<'frontend' | 'history' | 'matching' | 'worker', ServicePorts>;

/**
 * The services talk to each other on these; only the frontend's port is anyone else's business. A restart on
 * the same state keeps them: the server finds its cluster's members in the database by host and port, and
 * members at ports nobody answers on any more hold up its start until they expire.
 */
async function servicePorts(configDir: string, frontendPort: number): Promise<Ports> {
  const file = join(configDir, 'ports.json');
  if (existsSync(file)) {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as Ports;
    const internal = [kept.frontend.membershipPort, kept.frontend.httpPort!, ...(['history', 'matching', 'worker'] as const).flatMap((s) => [kept[s].grpcPort, kept[s].membershipPort])];
    if ((await Promise.all(internal.map(portFree))).every(Boolean)) return { ...kept, frontend: { ...kept.frontend, grpcPort: frontendPort } };
  }
  const ports: Ports = {
    frontend: { grpcPort: frontendPort, membershipPort: await lowFreePort(), httpPort: await lowFreePort() },
    history: { grpcPort: await lowFreePort(), membershipPort: await lowFreePort() },
    matching: { grpcPort: await lowFreePort(), membershipPort: await lowFreePort() },
    worker: { grpcPort: await lowFreePort(), membershipPort: await lowFreePort() },
  };
  writeFileSync(file, JSON.stringify(ports));
  return ports;
}

/**
 * A free port below 32768: the server records its services' ports in a SMALLINT column (cluster_membership),
 * and the kernel's ephemeral ports (what freePort gets) start above that.
 */
async function lowFreePort(): Promise<number> {
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    if (await portFree(port)) return port;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The server logs JSON lines with long stack traces: the fatal ones say why it stopped, without them. */
function whyItStopped(output: string): string {
  const lines = output.split('\n').filter((line) => /"level":"(fatal|dpanic|panic)"|^Unable to|^panic:/.test(line));
  const shown = (lines.length > 0 ? lines : output.split('\n').slice(-20)).map((line) => line.replace(/,"stacktrace":".*$/, '}'));
  return shown.join('\n').slice(-4000);
}

async function until(ready: () => Promise<boolean>, child: ChildProcess, deadline: number, output: () => string): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${child.spawnfile} exited with code ${child.exitCode}:\n${whyItStopped(output())}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${child.spawnfile} did not become ready:\n${whyItStopped(output())}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
