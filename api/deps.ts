/**
 * What the app factory (app.ts) takes and what it hands each route module: types only, in a module of their
 * own so that app.ts and the routes it mounts do not import each other.
 */
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { RequestIdVariables } from 'hono/request-id';
import type { ChatEntityClient } from '../clients/chat-entity';
import type { ProcessingClient } from '../clients/processing';
import type { ProjectEntityClient } from '../clients/project-entity';
import type { ProjectSetupClient } from '../clients/project-setup';
import type { TaskEntityClient } from '../clients/task-entity';
import type { Config } from '../common/config';
import type { Logger } from '../common/logger';
import type { RedisConnection } from '../common/redis';
import type { EventSubscriber } from '../events/subscriber';
import type { LivePublisher } from '../stream/live-records';
import type { FeedRegistry } from '../stream/sse';
import type { AccessVariables } from './access';
import type { EntityUpdateQueue } from './entity-updates';

export interface AppDeps {
  config: Config;
  client: Client;
  redis: RedisConnection;
  logger: Logger;
  /** The event subscriber this process runs, if any (its counters are served at /events/stats). */
  subscriber?: EventSubscriber;
  /** True once the process is shutting down: readiness fails and connections are not kept alive. */
  draining?: () => boolean;
  /** How AUTH_JWKS_URL is fetched (tests count the fetches). */
  fetch?: typeof fetch;
  /** With TENANTS: the tenant this app serves (api/tenants.ts); a caller of another is refused. */
  tenant?: string;
}

/** What route modules get: the app's dependencies, the entities' clients and the per-entity update queue the app owns. */
export type RouteDeps = AppDeps & {
  processing: ProcessingClient;
  tasks: TaskEntityClient;
  chats: ChatEntityClient;
  projects: ProjectEntityClient;
  projectSetups: ProjectSetupClient;
  entityUpdates: EntityUpdateQueue;
  /** The payload codec of PAYLOAD_ENCRYPTION_KEYS, served at /codec; undefined when payloads are not encrypted. */
  codec?: PayloadCodec;
  /** The event streams this process serves, and the hub they read from (stream/). */
  feeds: FeedRegistry;
  /** The live side channel, for what the API itself tells (a message as it is sent). */
  live: LivePublisher;
};

export type AppEnv = { Variables: RequestIdVariables & AccessVariables };
