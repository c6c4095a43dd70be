/**
 * `npm start`: the whole system on one machine. Starts the Temporal dev server (state in DATA_DIR, Web UI)
 * unless TEMPORAL_ADDRESS points at one, makes sure Redis answers (starting a local redis-server if it
 * must and can), then runs the worker and the API as child processes, prints where everything is, and
 * stops it all on Ctrl-C (or when any part dies).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, type Config } from '../common/config';
import { redisAnswers } from '../common/redis';
import { startDevServer, type DevServer } from './dev-server';
import { findTemporalCli } from './go-tools';
import { spawnEntry, stopProcess } from './processes';

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

    let server: DevServer | undefined;
    if (config.TEMPORAL_ADDRESS === undefined) {
      const cli = await findTemporalCli({ log: say });
      say(`starting the Temporal dev server (${cli}), state in ${dataDir}/temporal.db`);
      server = await startDevServer({
        cli,
        dbFile: resolve(dataDir, 'temporal.db'),
        port: config.TEMPORAL_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        namespace: config.TEMPORAL_NAMESPACE,
        logFile: resolve(dataDir, 'temporal.log'),
        // The browser calls it: the Web UI shows encrypted payloads in plain text through the API.
        uiCodecEndpoint: config.PAYLOAD_ENCRYPTION_KEYS ? `http://localhost:${config.PORT}/codec` : undefined,
      });
      parts.push({ name: 'Temporal dev server', stop: () => server!.stop() });
      env.TEMPORAL_ADDRESS = server.address;
    } else {
      say(`using the Temporal server at ${config.TEMPORAL_ADDRESS}`);
    }

    const redisServer = await ensureRedis(config, dataDir);
    if (redisServer) parts.push({ name: 'redis-server', stop: () => stopProcess(redisServer, STOP_GRACE_MS) });

    for (const [name, entry] of [
      ['worker', 'worker/main.ts'],
      ['api', 'api/main.ts'],
    ] as const) {
      const child = spawnEntry(entry, { env, stdio: 'inherit' });
      parts.push({ name, stop: () => stopProcess(child, STOP_GRACE_MS) });
      child.once('exit', (code, signal) => {
        if (!stopping) {
          say(`${name} exited (${signal ?? code}); stopping everything`);
          void stopAll(1);
        }
      });
    }

    await waitForReady(`http://127.0.0.1:${config.PORT}/readyz`);
    say('ready:');
    say(`  HTTP API         http://localhost:${config.PORT}   (try: curl http://localhost:${config.PORT}/readyz)`);
    if (server?.uiUrl) say(`  Temporal Web UI  ${server.uiUrl}${config.PAYLOAD_ENCRYPTION_KEYS ? `   (decodes payloads through http://localhost:${config.PORT}/codec)` : ''}`);
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

/** Resolves to a redis-server child when one had to be started, undefined when REDIS_URL already answers. */
async function ensureRedis(config: Config, dataDir: string): Promise<ChildProcess | undefined> {
  if (await redisAnswers(config.REDIS_URL)) {
    say(`using Redis at ${config.REDIS_URL}`);
    return undefined;
  }
  const url = new URL(config.REDIS_URL);
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(url.hostname);
  if (!local) throw new Error(`Redis at REDIS_URL=${config.REDIS_URL} does not answer. Start it or set REDIS_URL.`);
  const redisDir = resolve(dataDir, 'redis');
  mkdirSync(redisDir, { recursive: true });
  const port = url.port || '6379';
  say(`Redis at ${config.REDIS_URL} does not answer; starting redis-server on port ${port} (data in ${redisDir})`);
  const child = spawn('redis-server', ['--port', port, '--bind', '127.0.0.1', '--dir', redisDir, '--appendonly', 'yes'], {
    stdio: 'ignore',
  });
  const failed = new Promise<never>((_, reject) =>
    child.once('error', () =>
      reject(new Error(`Redis at REDIS_URL=${config.REDIS_URL} does not answer and no redis-server is on PATH. Start Redis or set REDIS_URL.`)),
    ),
  );
  const deadline = Date.now() + 10_000;
  while (!(await Promise.race([redisAnswers(config.REDIS_URL), failed]))) {
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port}; check REDIS_URL=${config.REDIS_URL}`);
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
