/**
 * A namespace the service can run in: registered (Temporal's own server has only `temporal-system` until
 * someone registers one; the dev server registers `default` itself) and carrying the custom search
 * attributes (workflows/shared/search-attributes.ts). Both steps leave what exists alone, so they run on every start.
 *
 * The same temporal CLI commands run in two places: here for TEMPORAL_SERVER=postgres, and as a shell script
 * in the Kubernetes Job (k8s/base/namespace-setup-job.yaml), which test/deploy.test.ts keeps equal to
 * namespaceSetupScript().
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../workflows/shared/search-attributes';

/** How long closed runs stay visible; the dev server keeps them 24h, production keeps more. */
export const NAMESPACE_RETENTION = '72h';

/** The commands, with `address` and `namespace` as given (values, or shell variables for the Job). */
export function namespaceSetupCommands(address: string, namespace: string) {
  const target = ['--address', address, '--namespace', namespace];
  return {
    describe: ['operator', 'namespace', 'describe', ...target],
    create: ['operator', 'namespace', 'create', ...target, '--retention', NAMESPACE_RETENTION],
    // One call for all: the CLI leaves attributes that exist with the same type alone and refuses another type.
    searchAttributes: [
      'operator', 'search-attribute', 'create', ...target,
      ...Object.entries(CUSTOM_SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--name', name, '--type', type]),
    ],
  };
}

/**
 * The Kubernetes Job's script: the commands above on $TEMPORAL_ADDRESS and $TEMPORAL_NAMESPACE and on each
 * tenant's namespace ($TENANTS, as the service reads it), then the
 * notifications app's namespace ($NOTIFICATIONS_NAMESPACE) and its Nexus endpoint ($NOTIFY_NEXUS_ENDPOINT ->
 * $NOTIFICATIONS_TASK_QUEUE). `npm start` and the tests make the endpoint through the operator API
 * (notifications/endpoint.ts).
 */
export function namespaceSetupScript(): string {
  const commands = namespaceSetupCommands('"$TEMPORAL_ADDRESS"', '"$TEMPORAL_NAMESPACE"');
  const tenant = namespaceSetupCommands('"$TEMPORAL_ADDRESS"', '"$ns"');
  const notifications = namespaceSetupCommands('"$TEMPORAL_ADDRESS"', '"$NOTIFICATIONS_NAMESPACE"');
  const endpoint = nexusEndpointCommands('"$TEMPORAL_ADDRESS"', '"$NOTIFY_NEXUS_ENDPOINT"', '"$NOTIFICATIONS_NAMESPACE"', '"$NOTIFICATIONS_TASK_QUEUE"');
  const line = (args: string[]) => ['temporal', ...args].join(' ');
  return [
    'set -eu',
    'until temporal operator cluster health --address "$TEMPORAL_ADDRESS"; do sleep 2; done',
    `${line(commands.describe)} > /dev/null || ${line(commands.create)}`,
    // A namespace just registered reaches every frontend within the namespace cache's refresh; an error that
    // lasts (an attribute of another type, the SQL visibility limit, no permission) fails the Job after a minute.
    `tries=0; until ${line(commands.searchAttributes)}; do tries=$((tries + 1)); [ "$tries" -lt 30 ] || exit 1; sleep 2; done`,
    // Each tenant's namespace (TENANTS: `acme,globex` or `acme=ns-acme,...`; the part after `=`, else the id), the same way.
    `for entry in $(echo "\${TENANTS:-}" | tr ',' ' '); do ns="\${entry#*=}"; ${line(tenant.describe)} > /dev/null || ${line(tenant.create)}; tries=0; until ${line(tenant.searchAttributes)}; do tries=$((tries + 1)); [ "$tries" -lt 30 ] || exit 1; sleep 2; done; done`,
    // The notifications app (notifications/): its namespace, and the Nexus endpoint processing runs call it by.
    `${line(notifications.describe)} > /dev/null || ${line(notifications.create)}`,
    `tries=0; until ${line(endpoint.get)} > /dev/null || ${line(endpoint.create)}; do tries=$((tries + 1)); [ "$tries" -lt 30 ] || exit 1; sleep 2; done`,
    '',
  ].join('\n');
}

/** The Nexus endpoint's commands: `name` routed to the notifications app's namespace and task queue. */
export function nexusEndpointCommands(address: string, name: string, namespace: string, taskQueue: string) {
  const at = ['--address', address, '--name', name];
  return {
    get: ['operator', 'nexus', 'endpoint', 'get', ...at],
    create: ['operator', 'nexus', 'endpoint', 'create', ...at, '--target-namespace', namespace, '--target-task-queue', taskQueue],
  };
}

export async function registerNamespace({ cli, address, namespace }: { cli: string; address: string; namespace: string }): Promise<void> {
  const commands = namespaceSetupCommands(address, namespace);
  // The server started here: none of the caller's TEMPORAL_* settings (API key, TLS, profile) apply to it.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TEMPORAL_')));
  const run = (args: string[]) => promisify(execFile)(cli, args, { env: { ...env, TEMPORAL_CONFIG_FILE: '/dev/null' } });
  const exists = await run(commands.describe).then(
    () => true,
    () => false,
  );
  if (!exists) await run(commands.create);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await run(commands.searchAttributes);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Registering the search attributes of ${namespace} failed: ${(err as { stderr?: string }).stderr ?? String(err)}`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}
