/**
 * `npm run bench` (`-- --quick` for a smoke run): starts its own Temporal server, the service's worker and
 * API as processes, and a baseline worker for bare Temporal; runs each scenario against both; then does the
 * same on Temporal's own server on PostgreSQL for throughput, chat and scale (deadline lag), so one run
 * compares the two servers; writes results.json, SVG charts and summary.md to bench/results/<date>/ (git-ignored).
 *
 *   npm run bench                          # all scenarios, 3 repeats (about 20 minutes on 2 cores)
 *   npm run bench -- --quick               # small sizes, 1 repeat (about 2 minutes)
 *   npm run bench -- --only chat,read-path # some scenarios
 *   npm run bench -- --servers dev         # one server only (default dev,postgres)
 *   npm run bench -- --worker-heap-mb 4096 # the workers' heap (default 768, as deployed); it sizes the workflow cache
 *   npm run bench -- --max-cached-workflows 3000  # or set the cache size (WORKER_MAX_CACHED_WORKFLOWS) directly
 *   npm run bench -- --profile             # also CPU profiles of the worker and the API (profiles/, for Chrome DevTools)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem, type } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../common/config';
import { connectClient } from '../common/temporal';
import { freePort } from '../scripts/dev-server';
import { TEMPORAL_CLI_VERSION, TEMPORAL_SERVER_VERSION } from '../scripts/go-tools';
import { startLocalTemporal, type TemporalServerKind } from '../scripts/temporal-server';
import { writeWorkflowBundle } from '../worker/create-worker';
import type { BenchContext, ScenarioResult } from './context';
import { logged, startProcess, type ServiceProcess } from './processes';
import { writeReport, type BenchRun } from './report';
import { startModelServer, type ModelServer } from '../test/helpers/model-server';
import { agent } from './scenarios/agent';
import { chat } from './scenarios/chat';
import { longLived } from './scenarios/long-lived';
import { readPath } from './scenarios/read-path';
import { scale } from './scenarios/scale';
import { streaming } from './scenarios/streaming';
import { mcp } from './scenarios/mcp';
import { notify } from './scenarios/notify';
import { project } from './scenarios/project';
import { ensureNexusEndpoint } from '../notifications/endpoint';
import { throughput } from './scenarios/throughput';
import { tracing } from './scenarios/tracing';

const SCENARIOS = ['throughput', 'read-path', 'chat', 'scale', 'long-lived', 'agent', 'streaming', 'mcp', 'notify', 'project', 'tracing'] as const;
/** The traced worker's cache (see the tracing scenario): with 768 MiB, 360 traced workflows ran it out of heap. */
const TRACED_CACHE = 120;
/** What runs on the second server too: what a server's storage decides (runs/s, update round trips, timer lag, a Nexus round trip). */
const BOTH_SERVERS = ['throughput', 'chat', 'scale', 'notify', 'project'];
const SERVER_NAMES: Record<TemporalServerKind, string> = {
  dev: `temporal CLI ${TEMPORAL_CLI_VERSION} dev server (SQLite, WAL)`,
  postgres: `Temporal server ${TEMPORAL_SERVER_VERSION} on PostgreSQL (4 shards, SQL visibility)`,
};

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    repeats: { type: 'string' },
    out: { type: 'string' },
    profile: { type: 'boolean', default: false },
    // The worker's heap, as the Kubernetes manifests set it (k8s/base/worker.yaml): the SDK sizes its
    // workflow cache from it, so this is what decides worker memory.
    'worker-heap-mb': { type: 'string', default: '768' },
    // WORKER_MAX_CACHED_WORKFLOWS for both workers; unset, the SDK sizes the cache from the heap.
    'max-cached-workflows': { type: 'string' },
    servers: { type: 'string', default: 'dev,postgres' },
  },
});

async function main(): Promise<void> {
  const quick = values.quick!;
  const repeats = Number(values.repeats ?? (quick ? 1 : 3));
  const only = values.only ? values.only.split(',') : [...SCENARIOS];
  for (const name of only) if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`Unknown scenario ${name}; known: ${SCENARIOS.join(', ')}`);
  const servers = values.servers!.split(',') as TemporalServerKind[];
  for (const server of servers) if (!(server in SERVER_NAMES)) throw new Error(`Unknown server ${server}; known: ${Object.keys(SERVER_NAMES).join(', ')}`);
  const date = new Date().toISOString();
  const outDir = resolve(values.out ?? join(__dirname, 'results', date.replace(/[:.]/g, '-')));
  const log = (line: string) => console.log(`[bench] ${line}`);

  const scenarios: ScenarioResult[] = [];
  let first: Awaited<ReturnType<typeof runOn>> | undefined;
  let failed: unknown;
  for (const [i, server] of servers.entries()) {
    const names = i === 0 ? only : only.filter((name) => BOTH_SERVERS.includes(name));
    if (names.length === 0) continue;
    log(`on the ${SERVER_NAMES[server]}`);
    try {
      const result = await runOn(server, names, { quick, repeats, outDir, log });
      first ??= result;
      scenarios.push(...result.scenarios);
    } catch (err) {
      // The first server's results are kept and reported; the failure still fails the run.
      if (!first) throw err;
      failed = err;
      log(`the ${SERVER_NAMES[server]} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const run: BenchRun = {
    date,
    quick,
    repeats,
    machine: {
      cpus: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.versions.node,
      os: type(),
      temporal: servers.map((server) => SERVER_NAMES[server]).join('; '),
    },
    workerSettings: { ...first!.settings, heapMiB: Number(values['worker-heap-mb']) },
    baselineWorkerSettings: first!.baselineSettings,
    scenarios,
  };
  writeReport(outDir, run);
  for (const s of scenarios) for (const g of s.goals) log(`${g.met ? 'met ' : 'MISS'} ${s.name}${s.server ? `@${s.server}` : ''}: ${g.goal} = ${g.value}${g.unit ?? ''} (limit ${g.limit})`);
  log(`results in ${outDir}`);
  if (failed) throw failed;
}

/** One server with the service's processes and the baseline worker on it, the scenarios run, everything stopped. */
async function runOn(kind: TemporalServerKind, only: string[], { quick, repeats, outDir, log }: { quick: boolean; repeats: number; outDir: string; log: (line: string) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'task-agent-bench-'));
  const tag = `bench-${Date.now().toString(36)}`;
  const server = await startLocalTemporal({
    kind,
    stateDir: dir,
    port: await freePort(),
    postgresUrl: loadConfig().TEMPORAL_POSTGRES_URL,
    maxConnections: loadConfig().TEMPORAL_POSTGRES_MAX_CONNECTIONS,
    database: `task_agent_${tag.replace(/-/g, '_')}`,
    dropOnFailure: true,
    log,
  }).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const processes: ServiceProcess[] = [];
  let model: ModelServer | undefined;
  try {
    const base = loadConfig();
    const env = {
      TEMPORAL_ADDRESS: server.address,
      REDIS_URL: base.REDIS_URL,
      REDIS_KEY_PREFIX: `${tag}:`,
      TASK_QUEUE: tag,
      // Processing runs notify through the notifications app over Nexus, as deployed.
      NOTIFY_NEXUS_ENDPOINT: `${tag}-notify`,
      NOTIFICATIONS_TASK_QUEUE: `${tag}-notifications`,
      NOTIFICATIONS_HEALTH_PORT: '0',
      // Request logs and the event subscriber's log lines are not what is being measured.
      LOG_LEVEL: 'warn',
    };
    const config = loadConfig(env);
    const setupClient = await connectClient(config);
    await ensureNexusEndpoint(setupClient.connection, { name: config.NOTIFY_NEXUS_ENDPOINT, namespace: config.NOTIFICATIONS_NAMESPACE, taskQueue: config.NOTIFICATIONS_TASK_QUEUE });
    await setupClient.connection.close();
    const bundlePath = join(dir, 'workflow-bundle.js');
    await writeWorkflowBundle(bundlePath);
    const apiPort = await freePort();
    const profiling = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(outDir, 'profiles')}`] : [];
    const heap = {
      NODE_OPTIONS: `--max-old-space-size=${Number(values['worker-heap-mb'])}`,
      ...(values['max-cached-workflows'] ? { WORKER_MAX_CACHED_WORKFLOWS: values['max-cached-workflows'] } : {}),
    };
    const worker = startProcess('worker', 'worker/main.ts', { ...env, ...heap, LOG_LEVEL: 'info', WORKFLOW_BUNDLE_PATH: bundlePath }, profiling);
    const api = startProcess('api', 'api/main.ts', { ...env, PORT: String(apiPort), HOST: '127.0.0.1' }, profiling);
    // The agent scenario's scripted model (instant), for a worker of the service that has a model and for the baseline.
    model = await startModelServer();
    const withModel = { LLM_BASE_URL: model.url, LLM_MODEL: 'scripted' };
    const baseline = startProcess('baseline-worker', 'bench/baseline-worker.ts', { ...env, ...heap, ...withModel, TASK_QUEUE: `${tag}-baseline`, SERVICE_TASK_QUEUE: tag });
    const notifications = startProcess('notifications', 'notifications/main.ts', { ...env, LOG_LEVEL: 'info' });
    processes.push(worker, api, baseline, notifications);
    // The notify scenario's other side: a worker of the service that notifies with its own activity.
    const activityWorker = only.includes('notify')
      ? startProcess('activity-worker', 'worker/main.ts', { ...env, ...heap, LOG_LEVEL: 'info', NOTIFY_VIA: 'activity', TASK_QUEUE: `${tag}-activity`, WORKFLOW_BUNDLE_PATH: bundlePath })
      : undefined;
    if (activityWorker) processes.push(activityWorker);
    const agentWorker =
      only.includes('agent') || only.includes('streaming')
        ? startProcess('agent-worker', 'worker/main.ts', { ...env, ...heap, ...withModel, LOG_LEVEL: 'info', TASK_QUEUE: `${tag}-agent`, WORKFLOW_BUNDLE_PATH: bundlePath })
        : undefined;
    if (agentWorker) processes.push(agentWorker);
    // Streamed turns go through an API whose chats the agent worker runs (the other API's worker has no model).
    const agentApiPort = await freePort();
    const agentApi = only.includes('streaming')
      ? startProcess('agent-api', 'api/main.ts', { ...env, TASK_QUEUE: `${tag}-agent`, PORT: String(agentApiPort), HOST: '127.0.0.1', API_METRICS_PORT: '0' })
      : undefined;
    if (agentApi) processes.push(agentApi);
    // The Temporal server is measured too (it is usually what bounds throughput here), not stopped by us.
    const temporal: ServiceProcess = { name: kind === 'dev' ? 'temporal-dev-server' : 'temporal-server', child: server.process, logs: [], stop: async () => undefined };
    const workerStarted = await logged(worker, 'worker started');
    const baselineStarted = await logged(baseline, 'worker started');
    if (agentWorker) await logged(agentWorker, 'worker started');
    if (activityWorker) await logged(activityWorker, 'worker started');
    await logged(notifications, 'notifications app started');
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const agentApiUrl = `http://127.0.0.1:${agentApiPort}`;
    for (const url of [apiUrl, ...(agentApi ? [agentApiUrl] : [])]) {
      for (let i = 0; i < 100 && !(await fetch(`${url}/healthz`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
    }
    const client = await connectClient(config);

    const ctx: BenchContext = { client, config, apiUrl, baselineQueue: `${tag}-baseline`, processes: [...processes, temporal], quick, repeats, log };
    const settings = workerStarted.settings as { maxCachedWorkflows: number };
    log(`worker settings ${JSON.stringify(settings)}; baseline ${JSON.stringify(baselineStarted.settings)}`);
    const scenarios: ScenarioResult[] = [];
    for (const name of only) {
      log(`scenario ${name}`);
      if (name === 'throughput') scenarios.push(await throughput(ctx));
      if (name === 'read-path') scenarios.push(await readPath(ctx));
      if (name === 'chat') scenarios.push(await chat(ctx));
      if (name === 'scale') scenarios.push(await scale(ctx, settings.maxCachedWorkflows));
      if (name === 'long-lived') scenarios.push(await longLived(ctx));
      if (name === 'agent') scenarios.push(await agent({ ...ctx, processes: ctx.processes, agentQueue: `${tag}-agent`, model: model! }));
      if (name === 'streaming') scenarios.push(await streaming({ ...ctx, agentApiUrl, model: model! }));
      if (name === 'mcp') scenarios.push(await mcp(ctx));
      if (name === 'notify') scenarios.push(await notify({ ...ctx, activityQueue: `${tag}-activity` }));
      if (name === 'project') scenarios.push(await project(ctx));
      if (name === 'tracing') {
        const startTracedWorker = (taskQueue: string, otlpEndpoint: string) =>
          // A traced workflow carries an instance of OpenTelemetry's SDK (loaded at its first traced call and
          // evaluated per workflow): a worker that traces every workflow fits about a third as many in the same heap.
          startProcess('traced-worker', 'worker/main.ts', {
            ...env,
            ...heap,
            WORKER_MAX_CACHED_WORKFLOWS: String(TRACED_CACHE),
            LOG_LEVEL: 'info',
            TASK_QUEUE: taskQueue,
            WORKFLOW_BUNDLE_PATH: bundlePath,
            OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
          });
        scenarios.push(await tracing({ ...ctx, startTracedWorker }));
      }
    }
    await client.connection.close();
    return {
      scenarios: scenarios.map((s) => ({ ...s, server: kind })),
      settings: settings as Record<string, unknown>,
      baselineSettings: baselineStarted.settings as Record<string, unknown>,
    };
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
    model?.close();
    await server.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
