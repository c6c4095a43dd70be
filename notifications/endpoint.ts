/**
 * The Nexus endpoint in front of the notifications app: a name the processing workflow calls
 * (NOTIFY_NEXUS_ENDPOINT), routed to the app's namespace and task queue. `npm start` and the tests make sure it
 * exists here (through the operator API); the deployments' setup jobs run the same as temporal CLI commands
 * (scripts/namespace-setup.ts).
 */
import type { ConnectionLike } from '@temporalio/client';

export interface NexusEndpointTarget {
  name: string;
  namespace: string;
  taskQueue: string;
}

/** The endpoint of that name, if there is one. */
async function findEndpoint(connection: ConnectionLike, name: string) {
  const { endpoints } = await connection.operatorService.listNexusEndpoints({ name, pageSize: 1 });
  return endpoints?.[0] ?? undefined;
}

/** Creates the endpoint, or points an existing one of that name at this target; returns its id. */
export async function ensureNexusEndpoint(connection: ConnectionLike, target: NexusEndpointTarget): Promise<string> {
  const spec = { name: target.name, target: { worker: { namespace: target.namespace, taskQueue: target.taskQueue } } };
  const existing = await findEndpoint(connection, target.name);
  if (!existing) {
    const { endpoint } = await connection.operatorService.createNexusEndpoint({ spec });
    return endpoint!.id!;
  }
  const worker = existing.spec?.target?.worker;
  if (worker?.namespace !== target.namespace || worker?.taskQueue !== target.taskQueue) {
    await connection.operatorService.updateNexusEndpoint({ id: existing.id, version: existing.version, spec });
  }
  return existing.id!;
}

/** The endpoint's target, or undefined when no endpoint has that name. */
export async function nexusEndpointTarget(connection: ConnectionLike, name: string): Promise<{ namespace: string; taskQueue: string } | undefined> {
  const existing = await findEndpoint(connection, name);
  const worker = existing?.spec?.target?.worker;
  return existing ? { namespace: worker?.namespace ?? '', taskQueue: worker?.taskQueue ?? '' } : undefined;
}

/** Removes the endpoint of that name, if there is one (test endpoints, made per test). */
export async function deleteNexusEndpoint(connection: ConnectionLike, name: string): Promise<void> {
  const existing = await findEndpoint(connection, name);
  if (existing) await connection.operatorService.deleteNexusEndpoint({ id: existing.id, version: existing.version });
}
