/**
 * `npm start`: the whole system on one machine. Starts a Temporal server with its Web UI unless
 * TEMPORAL_ADDRESS points at one: the CLI's dev server (state in DATA_DIR), or with TEMPORAL_SERVER=postgres
 * Temporal's own server on PostgreSQL (scripts/temporal-server.ts), makes sure Redis answers (starting a local redis-server if it
 * must and can), makes sure the notifications app's Nexus endpoint exists, then runs the worker, the notifications
 * app and the API as child processes (started again when one dies, see scripts/supervisor.ts), prints where
 * everything is, and stops it all on Ctrl-C.
 */
import { buildWebPage } from './build-web';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, type Config } from '../common/config';
import { connectRedis, redisAnswers } from '../common/redis';
import { tracingEnabled } from '../common/tracing';
import { startLocalTemporal, type LocalTemporal } from './temporal-server';
import { connectClient } from '../common/temporal';
import { ensureNexusEndpoint } from '../notifications/endpoint';
import type { Client } from '@temporalio/client';
import { stopProcess } from './processes';
import { Supervised } from './supervisor';

/** Above the worker's shutdown grace time and the API's drain, so both stop on their own. */
const STOP_GRACE_MS = 15_000;

const say = (message: string) => console.log(`[start] ${message}`);
const root = resolve(__dirname, '..');

interface Part {
  name: string;
  stop(): Promise<void>;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const dataDir = resolve(root, config.DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const parts: Part[] = [];
  let stopping = false;

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping...');
    for (const part of [...parts].reverse()) {
      await part.stop().catch((err) => say(`${part.name}: ${String(err)}`));
      say(`${part.name} stopped`);
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    const env: NodeJS.ProcessEnv = { ...process.env };

    let server: LocalTemporal | undefined;
    if (config.TEMPORAL_ADDRESS === undefined) {
      const kind = config.TEMPORAL_SERVER === 'dev' ? 'the Temporal dev server' : 'the Temporal server on PostgreSQL';
      say(`starting ${kind}${config.TEMPORAL_SERVER === 'postgres' ? ` (${withoutPassword(config.TEMPORAL_POSTGRES_URL)})` : ''}`);
      server = await startLocalTemporal({
        kind: config.TEMPORAL_SERVER,
        stateDir: dataDir,
        postgresUrl: config.TEMPORAL_POSTGRES_URL,
        maxConnections: config.TEMPORAL_POSTGRES_MAX_CONNECTIONS,
        log: say,
        port: config.TEMPORAL_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        namespace: config.TEMPORAL_NAMESPACE,
        // The notifications app's, and each tenant's (TENANTS), with the search attributes.
        extraNamespaces: [config.NOTIFICATIONS_NAMESPACE, ...(config.TENANTS ?? []).map((t) => t.namespace)],
        logFile: resolve(dataDir, 'temporal.log'),
        // The browser calls it: the Web UI shows encrypted payloads in plain text through the API.
        uiCodecEndpoint: config.PAYLOAD_ENCRYPTION_KEYS ? `http://localhost:${config.PORT}/codec` : undefined,
      });
      say(`Temporal state: ${server.describeState}`);
      parts.push({ name: kind, stop: () => server!.stop() });
      env.TEMPORAL_ADDRESS = server.address;
    } else {
      say(`using the Temporal server at ${config.TEMPORAL_ADDRESS}`);
    }

    if (config.NOTIFY_VIA === 'nexus') {
      const endpoint = { name: config.NOTIFY_NEXUS_ENDPOINT, namespace: config.NOTIFICATIONS_NAMESPACE, taskQueue: config.NOTIFICATIONS_TASK_QUEUE };
      await withClient({ ...config, TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS }, (client) => ensureNexusEndpoint(client.connection, endpoint));
      say(`Nexus endpoint ${endpoint.name} -> the notifications app (namespace ${endpoint.namespace}, task queue ${endpoint.taskQueue})`);
    }

    // The page the API serves at / (a second or two; nothing is fetched from a CDN).
    const page = await buildWebPage(config.WEB_DIST_DIR);
    say(`web page built (${Math.round(page.sizes['app.js']!.gzipped / 1024)} KB of JavaScript, gzipped)`);

    const redisServer = await ensureRedis(config, dataDir);
    if (redisServer) parts.push({ name: 'redis-server', stop: () => stopProcess(redisServer, STOP_GRACE_MS) });

    // Supervised like a Deployment's pods: one that dies is started again, with backoff; Ctrl-C stops all.
    const processes = [
      ['worker', 'worker/main.ts'],
      ...(config.NOTIFY_VIA === 'nexus' ? [['notifications', 'notifications/main.ts'] as const] : []),
      ['api', 'api/main.ts'],
    ] as const;
    for (const [name, entry] of processes) {
      const supervised = new Supervised({ name, entry, env, say, stopGraceMs: STOP_GRACE_MS });
      supervised.start();
      parts.push({ name, stop: () => supervised.stop() });
    }

    await waitForReady(`http://127.0.0.1:${config.PORT}/readyz`);
    say('ready:');
    say(`  Web page         http://localhost:${config.PORT}/   (chat, approvals and tasks)`);
    say(`  HTTP API         http://localhost:${config.PORT}   (try: curl http://localhost:${config.PORT}/readyz)`);
    say(`  MCP server       http://localhost:${config.PORT}/mcp   (for MCP clients; docs/mcp.md)`);
    if (server?.uiUrl) say(`  Temporal Web UI  ${server.uiUrl}${config.PAYLOAD_ENCRYPTION_KEYS ? `   (decodes payloads through http://localhost:${config.PORT}/codec)` : ''}`);
    if (config.NOTIFY_VIA === 'nexus') {
      say(`  Notifications    its own app, called over Nexus endpoint ${config.NOTIFY_NEXUS_ENDPOINT} (namespace ${config.NOTIFICATIONS_NAMESPACE})`);
    }
    if (tracingEnabled(config)) {
      say(`  Traces           OTLP to ${config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? config.OTEL_EXPORTER_OTLP_ENDPOINT} as task-agent-api and task-agent-worker`);
    }
    if (config.PAYLOAD_ENCRYPTION_KEYS) {
      say(`  Encrypted payloads: add --codec-endpoint http://localhost:${config.PORT}/codec to temporal commands to read them`);
    }
    say(`  Temporal gRPC    ${env.TEMPORAL_ADDRESS}   (npm run temporal -- workflow list --address ${env.TEMPORAL_ADDRESS})`);
    say('Ctrl-C stops everything.');
  } catch (err) {
    say(err instanceof Error ? err.message : String(err));
    await stopAll(1);
  }
}

async function withClient<T>(config: Config, use: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient(config);
  try {
    return await use(client);
  } finally {
    await client.connection.close();
  }
}

/** A URL to print: its password (if any) masked. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/**
 * Resolves to a redis-server child when one had to be started, undefined when REDIS_URL already answers (or
 * REDIS_CLUSTER_NODES names a cluster, which is never started here: it must answer).
 */
async function ensureRedis(config: Config, dataDir: string): Promise<ChildProcess | undefined> {
  if (config.REDIS_CLUSTER_NODES) {
    const nodes = config.REDIS_CLUSTER_NODES.join(',');
    const cluster = connectRedis(config);
    cluster.on('error', () => undefined);
    try {
      const answered = await Promise.race([cluster.ping().then(() => true, () => false), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000).unref())]);
      if (!answered) throw new Error(`The Redis Cluster at REDIS_CLUSTER_NODES=${nodes} does not answer. Start it or fix REDIS_CLUSTER_NODES.`);
    } finally {
      cluster.disconnect();
    }
    say(`using the Redis Cluster at ${nodes}`);
    return undefined;
  }
  const shown = withoutPassword(config.REDIS_URL);
  if (await redisAnswers(config.REDIS_URL)) {
    say(`using Redis at ${shown}`);
    return undefined;
  }
  const url = new URL(config.REDIS_URL);
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(url.hostname);
  if (!local) throw new Error(`Redis at REDIS_URL=${shown} does not answer. Start it or set REDIS_URL.`);
  const redisDir = resolve(dataDir, 'redis');
  mkdirSync(redisDir, { recursive: true });
  const port = url.port || '6379';
  say(`Redis at ${shown} does not answer; starting redis-server on port ${port} (data in ${redisDir})`);
  const child = spawn('redis-server', ['--port', port, '--bind', '127.0.0.1', '--dir', redisDir, '--appendonly', 'yes'], {
    stdio: 'ignore',
  });
  const failed = new Promise<never>((_, reject) =>
    child.once('error', () =>
      reject(new Error(`Redis at REDIS_URL=${shown} does not answer and no redis-server is on PATH. Start Redis or set REDIS_URL.`)),
    ),
  );
  const deadline = Date.now() + 10_000;
  while (!(await Promise.race([redisAnswers(config.REDIS_URL), failed]))) {
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port}; check REDIS_URL=${shown}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return child;
}

async function waitForReady(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not report ready within ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

main().catch((err) => {
  // A configuration problem is explained by its message (it names the variable); anything else gets its stack.
  console.error(err instanceof Error && err.message.startsWith('Invalid configuration') ? err.message : err);
  process.exit(1);
});
