/**
 * The HTTP API as an app factory: give it its dependencies, get a Hono app. api/main.ts serves it;
 * tests build one against the real dev server and Redis. Routes live in api/routes/, one module per
 * resource; errors go through one handler (api/errors.ts).
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Client } from '@temporalio/client';
import { bodyLimit } from 'hono/body-limit';
import { requestId, type RequestIdVariables } from 'hono/request-id';
import type { Redis } from 'ioredis';
import { ChatEntityClient } from '../clients/chat-entity';
import { ProcessingClient } from '../clients/processing';
import { TaskEntityClient } from '../clients/task-entity';
import type { Config } from '../common/config';
import type { Logger } from '../common/logger';
import { fieldErrors } from '../common/schemas';
import { bearerAuth } from './auth';
import { docsRoutes } from './docs';
import { EntityUpdateQueue } from './entity-updates';
import { ApiError, createErrorHandler, errorBody } from './errors';
import { acceptJsonBodies } from './json-bodies';
import { createMetrics } from './metrics';
import type { EventSubscriber } from '../events/subscriber';
import { agentRoutes } from './routes/agent';
import { chatRoutes } from './routes/chat';
import { eventRoutes } from './routes/events';
import { healthRoutes } from './routes/health';
import { processingRoutes } from './routes/processing';
import { taskRoutes } from './routes/tasks';
import { workflowRoutes } from './routes/workflows';

export interface AppDeps {
  config: Config;
  client: Client;
  redis: Redis;
  logger: Logger;
  /** The event subscriber this process runs, if any (its counters are served at /events/stats). */
  subscriber?: EventSubscriber;
  /** True once the process is shutting down: readiness fails and connections are not kept alive. */
  draining?: () => boolean;
}

/** What route modules get: the app's dependencies, the entities' clients and the per-entity update queue the app owns. */
export type RouteDeps = AppDeps & {
  processing: ProcessingClient;
  tasks: TaskEntityClient;
  chats: ChatEntityClient;
  entityUpdates: EntityUpdateQueue;
};

export type AppEnv = { Variables: RequestIdVariables };

export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    // Every schema failure (body, path, query) answers 422 with the list of bad fields.
    defaultHook: (result) => {
      if (!result.success) throw new ApiError(422, 'Request validation failed', fieldErrors(result.error));
    },
  });

  const metrics = createMetrics(deps.subscriber);
  app.use(requestId());
  app.use(async (c, next) => {
    await next();
    // 413 and 415 are answered without reading the body; a client that reused the connection would send
    // its next request into the rest of it. Close instead (a fuzz run caught "other side closed").
    if (deps.draining?.() || c.res.status === 413 || c.res.status === 415) c.header('Connection', 'close');
  });
  app.use(metrics.middleware);
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    deps.logger.info(
      { requestId: c.get('requestId'), method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) },
      'request',
    );
  });
  app.use(bearerAuth(deps.config.API_TOKEN));
  app.use(
    bodyLimit({
      maxSize: deps.config.MAX_BODY_BYTES,
      onError: (c) =>
        c.json(errorBody(`Request body is larger than ${deps.config.MAX_BODY_BYTES} bytes`, [{ field: 'body', message: 'too large' }]), 413),
    }),
  );
  app.use(acceptJsonBodies);

  const routeDeps: RouteDeps = {
    ...deps,
    processing: new ProcessingClient(deps.client, deps.config.TASK_QUEUE),
    tasks: new TaskEntityClient(deps.client, deps.config.TASK_QUEUE),
    chats: new ChatEntityClient(deps.client, deps.config.TASK_QUEUE),
    entityUpdates: new EntityUpdateQueue(deps.config.ENTITY_UPDATE_CONCURRENCY, deps.config.ENTITY_UPDATE_QUEUE_LIMIT),
  };
  app.route('/', healthRoutes(routeDeps));
  app.route('/', processingRoutes(routeDeps));
  app.route('/', taskRoutes(routeDeps));
  app.route('/', workflowRoutes(routeDeps));
  app.route('/', chatRoutes(routeDeps));
  app.route('/', agentRoutes(routeDeps));
  app.route('/', eventRoutes(routeDeps));

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'task-agent',
      version: '0.1.0',
      description: 'Stateful task agent on Temporal: processing workflow with saga compensation, task entities.',
    },
  });

  app.route('/', docsRoutes());
  metrics.mount(app);

  app.notFound((c) => c.json(errorBody(`No route for ${c.req.method} ${c.req.path}`), 404));
  app.onError(createErrorHandler(deps.logger));
  return app;
}
