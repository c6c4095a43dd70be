/**
 * Deployment files, validated offline (no cluster, no Docker engine here): k8s/ rendered by kustomize as
 * `kubectl apply -k` would, each object against its Kubernetes schema, the references between objects,
 * the environment against the config module, docker-compose.yml against the compose specification, the
 * Dockerfile through a linter; then the real worker and API, compiled as the image compiles them
 * (tsconfig.build.json), started by plain `node` with the manifests' commands and environment.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { createApp } from '../api/app';
import { CONFIG_VARIABLES, loadConfig } from '../common/config';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../workflows/shared/search-attributes';
import { freePort } from '../scripts/dev-server';
import { SETTINGS } from '../common/config-reference';
import { namespaceSetupScript } from '../scripts/namespace-setup';
import { findKustomize } from '../scripts/go-tools';
import { SHUTDOWN_GRACE_SECONDS } from '../worker/create-worker';
import { WORKER_HEALTH_PATHS } from '../worker/health';
import { eventually } from './helpers/harness';
import { connectClient } from '../common/temporal';
import { deleteNexusEndpoint, ensureNexusEndpoint } from '../notifications/endpoint';

const root = resolve(__dirname, '..');
const run = promisify(execFile);

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [key: string]: any };

async function render(dir: string): Promise<K8sObject[]> {
  const { stdout } = await run(await findKustomize(), ['build', join(root, dir)], { maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout).map((doc) => doc.toJSON() as K8sObject);
}

const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const named = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const workloads = (objects: K8sObject[]) => objects.filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind));
const podTemplate = (o: K8sObject) => o.spec.template;
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Variables Node or the platform reads rather than our config module. */
const PLATFORM_VARIABLES = new Set(['NODE_OPTIONS']);
/** Deployments must set these: their defaults point at localhost, which is wrong in a cluster. */
const REQUIRED_IN_CLUSTER = ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TASK_QUEUE', 'REDIS_URL'];

/** Variables whose values are secrets (common/config-reference.ts): only ever from a Secret (Kubernetes) or an env file (compose). */
const SECRET_VARIABLES = Object.entries(SETTINGS).filter(([, setting]) => setting.secret).map(([name]) => name);
/** What an operator's secrets.env holds (deploy/secrets.env.example), with values the config module accepts. */
const OPERATOR_SECRETS: Record<string, string> = {
  API_TOKEN: 'a-long-random-service-token',
  AUTH_JWT_SECRET: 'a-secret-of-at-least-thirty-two-characters',
  PAYLOAD_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
  LLM_API_KEY: '',
  NOTIFY_WEBHOOK_URL: '',
  AGENT_MCP_SERVERS: '',
};

/** The environment a container of ours gets: its configMapRef/secretRef data, then its env entries. */
function containerEnv(objects: K8sObject[], container: any): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, named(objects, 'ConfigMap', from.configMapRef.name)!.data);
  }
  for (const entry of container.env ?? []) {
    if (entry.value !== undefined) env[entry.name] = entry.value;
    else if (entry.valueFrom?.configMapKeyRef) {
      env[entry.name] = named(objects, 'ConfigMap', entry.valueFrom.configMapKeyRef.name)!.data[entry.valueFrom.configMapKeyRef.key];
    } else if (entry.valueFrom?.secretKeyRef && !named(objects, 'Secret', entry.valueFrom.secretKeyRef.name)) {
      // The Secret the operator creates from secrets.env (not in the manifests).
      env[entry.name] = OPERATOR_SECRETS[entry.valueFrom.secretKeyRef.key] ?? '';
    } else if (entry.valueFrom?.secretKeyRef) {
      const secret = named(objects, 'Secret', entry.valueFrom.secretKeyRef.name)!;
      env[entry.name] = secret.stringData?.[entry.valueFrom.secretKeyRef.key] ?? '';
    }
  }
  return env;
}

const appContainers = (objects: K8sObject[]) =>
  ['task-agent-worker', 'task-agent-notifications', 'task-agent-api'].map((name) => {
    const deployment = named(objects, 'Deployment', name)!;
    return { deployment, container: deployment.spec.template.spec.containers[0] };
  });

async function validateSchema(object: K8sObject): Promise<void> {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  const module = await import(group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`);
  const Model = module[object.kind];
  expect(Model, `${object.apiVersion} ${object.kind} is a known kind`).toBeDefined();
  new Model(object).validate();
}

describe.each(['k8s', 'k8s/production'])('%s', (dir) => {
  let objects: K8sObject[];
  beforeAll(async () => {
    objects = await render(dir);
  }, 900_000);

  it('renders, and every object validates against its Kubernetes schema', async () => {
    expect(objects.length).toBeGreaterThan(10);
    for (const object of objects) await validateSchema(object);
    for (const object of objects.filter((o) => o.kind !== 'Namespace')) expect(object.metadata.namespace, object.metadata.name).toBe('task-agent');
  });

  it('has selectors that match their pods, and Services that target declared ports', () => {
    for (const workload of workloads(objects)) {
      expect(matches(workload.spec.selector.matchLabels, podTemplate(workload).metadata.labels), workload.metadata.name).toBe(true);
    }
    for (const service of byKind(objects, 'Service')) {
      const targets = workloads(objects).filter((w) => matches(service.spec.selector, podTemplate(w).metadata.labels));
      expect(targets, `Service ${service.metadata.name} selects a workload`).toHaveLength(1);
      const ports = podTemplate(targets[0]!).spec.containers.flatMap((c: any) => c.ports ?? []);
      for (const port of service.spec.ports) {
        expect(
          ports.some((p: any) => p.name === port.targetPort || p.containerPort === port.targetPort),
          `${service.metadata.name} -> ${port.targetPort}`,
        ).toBe(true);
      }
    }
    for (const budget of byKind(objects, 'PodDisruptionBudget')) {
      expect(workloads(objects).some((w) => matches(budget.spec.selector.matchLabels, podTemplate(w).metadata.labels)), budget.metadata.name).toBe(true);
    }
    for (const autoscaler of byKind(objects, 'HorizontalPodAutoscaler')) {
      expect(named(objects, autoscaler.spec.scaleTargetRef.kind, autoscaler.spec.scaleTargetRef.name), autoscaler.metadata.name).toBeDefined();
    }
  });

  it('points the scrape annotations at the metrics ports the processes serve', () => {
    for (const { deployment, container } of appContainers(objects)) {
      const annotations = podTemplate(deployment).metadata.annotations ?? {};
      if (annotations['prometheus.io/scrape'] !== 'true') continue;
      const port = Number(annotations['prometheus.io/port']);
      expect(container.ports.map((p: any) => p.containerPort), deployment.metadata.name).toContain(port);
      const setting = deployment.metadata.name === 'task-agent-api' ? 'API_METRICS_PORT' : 'WORKER_METRICS_PORT';
      expect(Number(containerEnv(objects, container)[setting] ?? loadConfig({})[setting]), `${deployment.metadata.name} ${setting}`).toBe(port);
      expect(port, deployment.metadata.name).not.toBe(Number(containerEnv(objects, container).PORT ?? 8000));
    }
  });

  it('probes paths the processes really serve, on declared ports', () => {
    const apiPaths = new Set(createApp({ config: loadConfig({}), client: {} as never, redis: {} as never, logger: {} as never }).routes.map((r) => r.path));
    for (const { deployment, container } of appContainers(objects)) {
      const served = deployment.metadata.name === 'task-agent-api' ? apiPaths : new Set(WORKER_HEALTH_PATHS);
      const portNames = new Set(container.ports.map((p: any) => p.name));
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const get = container[probe]?.httpGet;
        expect(get, `${deployment.metadata.name} ${probe}`).toBeDefined();
        expect(served.has(get.path), `${deployment.metadata.name} ${probe} ${get.path}`).toBe(true);
        expect(portNames.has(get.port), `${deployment.metadata.name} ${probe} port ${get.port}`).toBe(true);
      }
    }
  });

  it('sets only variables the config module knows, all the required ones, with values it accepts', () => {
    for (const { deployment, container } of appContainers(objects)) {
      const env = containerEnv(objects, container);
      for (const name of Object.keys(env)) {
        if (!PLATFORM_VARIABLES.has(name)) expect(CONFIG_VARIABLES, `${deployment.metadata.name}: ${name}`).toContain(name);
      }
      for (const name of REQUIRED_IN_CLUSTER) expect(env[name], `${deployment.metadata.name}: ${name}`).toBeTruthy();
      expect(() => loadConfig(env)).not.toThrow();
    }
  });

  it('takes every secret from the Secret the operator creates, none written in the manifests', () => {
    expect(byKind(objects, 'Secret'), 'no Secret with values in the manifests').toEqual([]);
    for (const configMap of byKind(objects, 'ConfigMap')) {
      for (const name of SECRET_VARIABLES) expect(configMap.data?.[name], `${configMap.metadata.name}: ${name}`).toBeUndefined();
    }
    const refs: Record<string, string[]> = {};
    for (const { deployment, container } of appContainers(objects)) {
      for (const entry of container.env ?? []) {
        if (!SECRET_VARIABLES.includes(entry.name)) continue;
        expect(entry.value, `${deployment.metadata.name}: ${entry.name} has an inline value`).toBeUndefined();
        expect(entry.valueFrom?.secretKeyRef?.name, `${deployment.metadata.name}: ${entry.name}`).toBe('task-agent-secrets');
        (refs[deployment.metadata.name] ??= []).push(entry.name);
      }
    }
    // The API refuses to start open in a cluster (API_TOKEN is not optional); both share the encryption keys.
    expect(refs['task-agent-api']).toEqual(expect.arrayContaining(['API_TOKEN', 'AUTH_JWT_SECRET', 'PAYLOAD_ENCRYPTION_KEYS']));
    expect(refs['task-agent-worker']).toEqual(expect.arrayContaining(['PAYLOAD_ENCRYPTION_KEYS', 'LLM_API_KEY']));
    const api = appContainers(objects).find((a) => a.deployment.metadata.name === 'task-agent-api')!.container;
    expect(api.env.find((e: any) => e.name === 'API_TOKEN').valueFrom.secretKeyRef.optional).toBe(false);
    // The example env file names exactly these secrets.
    const example = readFileSync(join(root, 'deploy/secrets.env.example'), 'utf8');
    const named = [...example.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]).sort();
    expect(named).toEqual(Object.keys(OPERATOR_SECRETS).sort());
  });

  it('is locked down and drains within its grace period', () => {
    for (const workload of workloads(objects)) {
      const pod = podTemplate(workload).spec;
      expect(pod.securityContext.runAsNonRoot, workload.metadata.name).toBe(true);
      for (const container of pod.containers) {
        expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
        expect(container.resources.limits.memory, container.name).toBeDefined();
      }
    }
    const worker = named(objects, 'Deployment', 'task-agent-worker')!;
    expect(worker.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(SHUTDOWN_GRACE_SECONDS);
    expect(named(objects, 'NetworkPolicy', 'redis-from-app-only')).toBeDefined();
  });

  it('registers the namespace and exactly the search attributes the code upserts, with the commands TEMPORAL_SERVER=postgres runs', () => {
    const job = named(objects, 'Job', 'namespace-setup')!;
    const script = job.spec.template.spec.containers[0].args.join('\n');
    expect(script).toBe(namespaceSetupScript());
    const names = [...script.matchAll(/--name (\w+) --type (\w+)/g)].map((m) => `${m[1]}=${m[2]}`);
    expect([...new Set(names)].sort()).toEqual(Object.entries(CUSTOM_SEARCH_ATTRIBUTES).map(([name, type]) => `${name}=${type}`).sort());
  });
});

describe('production overlay', () => {
  it('drops the dev server and points the app at the Helm chart frontend', async () => {
    const objects = await render('k8s/production');
    expect(named(objects, 'Deployment', 'temporal-dev')).toBeUndefined();
    expect(named(objects, 'ConfigMap', 'task-agent-config')!.data.TEMPORAL_ADDRESS).toBe('temporal-frontend.temporal.svc.cluster.local:7233');
    const values = parseYaml(readFileSync(join(root, 'k8s/production/temporal-values.yaml'), 'utf8'));
    expect(values.server.config.persistence.default.sql.driver).toBe('postgres12');
  }, 900_000);
});

describe('docker-compose.yml', () => {
  const compose = parseYaml(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true });

  it('validates against the compose specification and passes dclint', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    // dclint ships the compose specification's schema (not exported as a module path).
    const dclint = join(root, 'node_modules/dclint');
    const schema = JSON.parse(readFileSync(join(dclint, 'schemas/compose.schema.json'), 'utf8'));
    delete schema.$schema; // draft-07, Ajv's own default, named by an https id Ajv does not know
    const validate = ajv.compile(schema);
    expect(validate(compose), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ services: { api: { imag: 'task-agent:latest' } } })).toBe(false); // the check can fail
    await run(process.execPath, [join(dclint, 'bin/dclint.cjs'), '-c', join(root, 'deploy/dclint.json'), join(root, 'docker-compose.yml')]);
  });

  it('takes secrets from the secrets.env file, never from values written in it', () => {
    for (const name of ['worker', 'notifications', 'api', 'worker-dev', 'notifications-dev', 'api-dev']) {
      const service = compose.services[name];
      for (const variable of SECRET_VARIABLES) expect(service.environment[variable], `${name}: ${variable}`).toBeUndefined();
      expect(service.env_file, name).toEqual([{ path: './secrets.env', required: false }]);
    }
  });

  it('gives worker and API only known variables, the required ones, and starts them in order', () => {
    for (const name of ['worker', 'notifications', 'api', 'worker-dev', 'notifications-dev', 'api-dev']) {
      const service = compose.services[name];
      for (const variable of Object.keys(service.environment)) expect(CONFIG_VARIABLES, `${name}: ${variable}`).toContain(variable);
      for (const variable of REQUIRED_IN_CLUSTER) expect(service.environment[variable], `${name}: ${variable}`).toBeTruthy();
      // As compose passes it with nothing set in the shell: `${NAME:-default}` is the default.
      const interpolated = Object.fromEntries(Object.entries(service.environment as Record<string, string>).map(([k, v]) => [k, String(v).replace(/\$\{\w+:-([^}]*)\}/g, '$1')]));
      expect(() => loadConfig(interpolated)).not.toThrow();
      for (const dependency of Object.values(service.depends_on) as { condition: string }[]) {
        expect(['service_healthy', 'service_completed_successfully']).toContain(dependency.condition);
      }
    }
    // The namespace setup the Kubernetes Job and TEMPORAL_SERVER=postgres run ($$ is compose's escape for $).
    const setup = compose.services['temporal-setup'].command.join('\n');
    expect(setup.replaceAll('$$', '$')).toBe(namespaceSetupScript());
    expect(compose.services['temporal-setup'].environment.TEMPORAL_NAMESPACE).toBe('default');
  });
});

describe('Dockerfile', () => {
  it('passes the linter and copies what the processes need', async () => {
    const { stdout } = await run(process.execPath, [join(root, 'node_modules/dockerfilelint/bin/dockerfilelint'), join(root, 'Dockerfile')]);
    expect(stdout).toContain('Issues: None found');
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    for (const [, source] of dockerfile.matchAll(/^COPY --chown=node:node (\w+) \.\/\w+$/gm)) {
      expect(existsSync(join(root, source!)), source).toBe(true);
    }
    // Node 24 LTS, glibc: Temporal's core has no musl build.
    expect([...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])).toEqual(['node:24-bookworm-slim', 'node:24-bookworm-slim', 'node:24-bookworm-slim']);
    expect(dockerfile).toMatch(/^USER node$/m);
    // The final stage runs compiled JavaScript, with production dependencies only: tsx is not among them.
    expect(dockerfile).toMatch(/^CMD \["node", "--enable-source-maps", "dist\/worker\/main\.js"\]$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; engines: { node: string } };
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    expect(pkg.engines.node).toBe('>=20.19 <21 || >=22.12');
  });
});

describe('the processes with the manifests’ environment', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  it('start from the compiled JavaScript with plain node, report ready on the probe paths, run a task, and serve the worker metrics', { timeout: 180_000 }, async () => {
    const objects = await render('k8s');
    // What the image's build stage does: tsconfig.build.json into dist/ (here a temporary folder's dist/,
    // node_modules found through NODE_PATH), and the workflow bundle WORKFLOW_BUNDLE_PATH names.
    const image = mkdtempSync(join(tmpdir(), 'task-agent-image-'));
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(image, 'dist')]);
    const [apiPort, healthPort, metricsPort, apiMetricsPort, notificationsHealthPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    // Cluster addresses become the test's dev server and Redis; ports become free ones.
    const local = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      REDIS_URL: inject('redisUrl'),
      REDIS_KEY_PREFIX: `deploy-test-${Date.now()}:`,
      TASK_QUEUE: `deploy-test-${Date.now()}`,
      WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
      NOTIFICATIONS_WORKFLOW_BUNDLE_PATH: inject('notificationsBundlePath'),
      // The notifications app's endpoint and task queue, this test's own on the shared server.
      NOTIFY_NEXUS_ENDPOINT: `deploy-test-notify-${Date.now()}`,
      NOTIFICATIONS_TASK_QUEUE: `deploy-test-notifications-${Date.now()}`,
    };
    const client = await connectClient(loadConfig({ TEMPORAL_ADDRESS: local.TEMPORAL_ADDRESS }));
    await ensureNexusEndpoint(client.connection, { name: local.NOTIFY_NEXUS_ENDPOINT, namespace: loadConfig({}).NOTIFICATIONS_NAMESPACE, taskQueue: local.NOTIFICATIONS_TASK_QUEUE });
    onTestFinished(async () => {
      await deleteNexusEndpoint(client.connection, local.NOTIFY_NEXUS_ENDPOINT).catch(() => undefined);
      await client.connection.close();
    });
    for (const { deployment, container } of appContainers(objects)) {
      const env = {
        PATH: process.env.PATH!,
        NODE_PATH: join(root, 'node_modules'),
        LOG_LEVEL: 'warn',
        ...containerEnv(objects, container),
        ...local,
        PORT: String(apiPort),
        WORKER_HEALTH_PORT: String(healthPort),
        WORKER_METRICS_PORT: String(metricsPort),
        API_METRICS_PORT: String(apiMetricsPort),
        NOTIFICATIONS_HEALTH_PORT: String(notificationsHealthPort),
      };
      const [command, ...args] = container.command as string[];
      expect(command).toBe('node');
      expect(args.join(' ')).not.toMatch(/tsx|\.ts\b/);
      const child = spawn(process.execPath, args, { cwd: image, env, stdio: ['ignore', 'ignore', 'inherit'] });
      child.once('exit', (code) => {
        if (code !== null && code !== 0) console.error(`${deployment.metadata.name} exited with ${code}`);
      });
      children.push(child);
    }
    onTestFinished(() => rmSync(image, { recursive: true, force: true }));
    const ready = async (url: string) => (await fetch(url).catch(() => undefined))?.status;
    expect(await eventually(() => ready(`http://127.0.0.1:${apiPort}/readyz`), (s) => s === 200, { timeoutMs: 60_000 })).toBe(200);
    expect(await eventually(() => ready(`http://127.0.0.1:${healthPort}/readyz`), (s) => s === 200, { timeoutMs: 60_000 })).toBe(200);
    expect(await eventually(() => ready(`http://127.0.0.1:${notificationsHealthPort}/readyz`), (s) => s === 200, { timeoutMs: 60_000 })).toBe(200);
    expect(await ready(`http://127.0.0.1:${apiPort}/healthz`)).toBe(200);
    expect(await ready(`http://127.0.0.1:${healthPort}/healthz`)).toBe(200);
    // The worker's SDK metrics, where the manifests' scrape annotations point.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^temporal_num_pollers\{/m);
    // The API's, on a port of their own; the API itself does not serve them.
    expect(await (await fetch(`http://127.0.0.1:${apiMetricsPort}/metrics`)).text()).toMatch(/^task_agent_http_requests_total\{/m);
    expect(await ready(`http://127.0.0.1:${apiPort}/metrics`)).toBe(401);
    // The compiled worker runs the workflows and activities: a processing run completes.
    const post = await fetch(`http://127.0.0.1:${apiPort}/tasks/process`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR_SECRETS.API_TOKEN}` },
      body: JSON.stringify({ task_id: `deploy-${Date.now()}`, title: 'Compiled', description: 'Runs from dist/', assignee: 'alice@example.com', deadline_seconds: 60 }),
    });
    expect(post.status).toBe(200);
    const { workflow_id } = (await post.json()) as { workflow_id: string };
    const status = async () =>
      ((await (await fetch(`http://127.0.0.1:${apiPort}/workflows/${workflow_id}`, { headers: { authorization: `Bearer ${OPERATOR_SECRETS.API_TOKEN}` } })).json()) as { status: string }).status;
    expect(await eventually(status, (s) => s === 'COMPLETED', { timeoutMs: 60_000 })).toBe('COMPLETED');
  });
});
