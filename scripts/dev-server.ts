/**
 * Starts `temporal server start-dev` (Temporal + Web UI) for the launcher and the tests: SQLite in WAL
 * mode, the project's search attributes registered, and a wait until the namespace answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../workflows/shared/search-attributes';
import { stopProcess } from './processes';

export interface DevServerOptions {
  cli: string;
  /** SQLite file; the state survives restarts of the server. */
  dbFile: string;
  port: number;
  /** Web UI port; omit for a headless server. */
  uiPort?: number;
  ip?: string;
  namespace?: string;
  /** More namespaces to register (the notifications app's); they carry the same search attributes. */
  extraNamespaces?: string[];
  /** The codec endpoint the Web UI decodes payloads with (the API's /codec, when payloads are encrypted). */
  uiCodecEndpoint?: string;
  /** Where the server's own output goes; by default it is discarded. */
  logFile?: string;
  startTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  /** SIGTERM, then SIGKILL if it has not exited within the grace time. */
  stop(graceMs?: number): Promise<void>;
}

/** Server settings the service is tuned for; the deployment files set the same (k8s/, docker-compose.yml). */
export const DYNAMIC_CONFIG = ['system.enableActivityEagerExecution=true'];

export function devServerArgs(options: DevServerOptions): string[] {
  const args = [
    'server', 'start-dev',
    '--ip', options.ip ?? '127.0.0.1',
    '--port', String(options.port),
    '--db-filename', options.dbFile,
    // WAL lets readers (visibility, the UI) proceed while the single writer commits; NORMAL sync is
    // durable across process crashes, which is what a dev server needs.
    '--sqlite-pragma', 'journal_mode=WAL',
    '--sqlite-pragma', 'synchronous=NORMAL',
    '--log-level', 'warn',
    // The server hands an activity scheduled by a workflow task straight back to the worker that completed
    // it, skipping a matching round trip: +20-35% runs/s of a 5-activity workflow here (bench/README.md).
    ...DYNAMIC_CONFIG.flatMap((setting) => ['--dynamic-config-value', setting]),
  ];
  args.push(...(options.uiPort !== undefined ? ['--ui-port', String(options.uiPort)] : ['--headless']));
  if (options.uiPort !== undefined && options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  for (const namespace of [options.namespace, ...(options.extraNamespaces ?? [])]) {
    if (namespace && namespace !== 'default') args.push('--namespace', namespace);
  }
  for (const [name, type] of Object.entries(CUSTOM_SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  return args;
}

/** The dev server exited before it answered: its output's head (a panic's reason) and tail. */
class ExitedAtStart extends Error {}

/**
 * Starts the dev server; once more when it exits before answering. It picks free ports for its internal services
 * at start, and another process starting at the same moment (parallel test files, each with a server of its own)
 * can take one first: the server then panics at start, and a second start picks others.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  try {
    return await startDevServerOnce(options);
  } catch (err) {
    if (!(err instanceof ExitedAtStart)) throw err;
    return startDevServerOnce(options);
  }
}

async function startDevServerOnce(options: DevServerOptions): Promise<DevServer> {
  const host = options.ip && options.ip !== '0.0.0.0' ? options.ip : '127.0.0.1';
  const address = `${host}:${options.port}`;
  const child = spawn(options.cli, devServerArgs(options), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const sink = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  const collect = (chunk: Buffer) => {
    if (output.length < 64 * 1024) output += chunk.toString();
    sink?.write(chunk);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const stop = async (graceMs = 10_000) => {
    await stopProcess(child, graceMs);
    sink?.end();
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) {
      sink?.end();
      const reason = output.match(/^(panic|Error|.*fatal).*$/m)?.[0];
      throw new ExitedAtStart(`temporal server start-dev exited with code ${child.exitCode}${reason ? ` (${reason})` : ''}:\n${output.slice(-4000)}`);
    }
    if (await namespaceReady(address, options.namespace ?? 'default')) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`temporal server start-dev did not become ready at ${address}:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    address,
    uiUrl: options.uiPort !== undefined ? `http://localhost:${options.uiPort}` : undefined,
    process: child,
    stop,
  };
}

export function namespaceReady(address: string, namespace: string): Promise<boolean> {
  return serverAnswers(address, (connection) => connection.workflowService.describeNamespace({ namespace }));
}

/** Whether the server at `address` answers `probe` now (a fresh connection, closed after). */
export async function serverAnswers(address: string, probe: (connection: Connection) => Promise<unknown>): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1_000 });
    await probe(connection);
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
