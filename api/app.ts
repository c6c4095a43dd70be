/**
 * The HTTP API as an app factory: give it its dependencies, get a Hono app. api/main.ts serves it;
 * tests build one against the real dev server and Redis. Routes live in api/routes/, one module per
 * resource; errors go through one handler (api/errors.ts).
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { cors } from 'hono/cors';
import type { Context, Hono, Next } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { ChatEntityClient } from '../clients/chat-entity';
import { ProcessingClient } from '../clients/processing';
import { ProjectEntityClient } from '../clients/project-entity';
import { ProjectSetupClient } from '../clients/project-setup';
import { TaskEntityClient } from '../clients/task-entity';
import { codecCorsOrigins, temporalUiLink } from '../common/config';
import { chatEntityWorkflowId, projectEntityWorkflowId, taskEntityWorkflowId } from '../workflows/shared/ids';
import { AesGcmPayloadCodec } from '../common/payload-encryption';
import { fieldErrors } from '../common/schemas';
import { tracingEnabled } from '../common/tracing';
import { PUBLIC_PATHS, authenticate, requireChatOwner } from './access';
import { docsRoutes } from './docs';
import { EntityUpdateQueue } from './entity-updates';
import { ApiError, createErrorHandler, errorBody } from './errors';
import { acceptJsonBodies } from './json-bodies';
import { httpServerSpans } from './http-tracing';
import { matchedRoute } from './matched-route';
import { createMetrics } from './metrics';
import { agentRoutes } from './routes/agent';
import { chatRoutes } from './routes/chat';
import { chatStreamRoutes } from './routes/chat-stream';
import { LiveHub } from '../stream/live-hub';
import { LivePublisher } from '../stream/live-records';
import { FeedRegistry } from '../stream/sse';
import { codecRoutes } from './routes/codec';
import { eventRoutes } from './routes/events';
import { healthRoutes } from './routes/health';
import { mcpRoutes } from './routes/mcp';
import { createMcpServer } from '../mcp/server';
import { McpSessions } from '../mcp/sessions';
import { McpToolCalls } from '../mcp/tool-calls';
import { processingRoutes } from './routes/processing';
import { projectRoutes } from './routes/projects';
import { taskRoutes } from './routes/tasks';
import { webRoutes } from './routes/web';
import { workflowRoutes } from './routes/workflows';
import { eventKeyPrefix } from '../common/redis';
import type { AppDeps, AppEnv, RouteDeps } from './deps';

const CODEC_MAX_BODY_BYTES = 8 * 1024 * 1024;

/** The API's app, the app that serves its metrics on their own port (api/metrics.ts), and how to end its streams. */
export interface Api {
  app: OpenAPIHono<AppEnv>;
  metrics: Hono;
  /** Ends the open event streams (clients reconnect elsewhere) and stops reading Redis for them. */
  close(): Promise<void>;
}

export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  return createApi(deps).app;
}

export function createApi(deps: AppDeps): Api {
  const app = new OpenAPIHono<AppEnv>({
    // Every schema failure (body, path, query) answers 422 with the list of bad fields.
    defaultHook: (result) => {
      if (!result.success) throw new ApiError(422, 'Request validation failed', fieldErrors(result.error));
    },
  });

  const entityUpdates = new EntityUpdateQueue(deps.config.ENTITY_UPDATE_CONCURRENCY, deps.config.ENTITY_UPDATE_QUEUE_LIMIT);
  const feeds = new FeedRegistry(new LiveHub(deps.redis, eventKeyPrefix(deps.config), deps.logger), deps.config, deps.logger);
  const live = new LivePublisher(deps.redis, { eventKeyPrefix: eventKeyPrefix(deps.config), maxLength: deps.config.LIVE_STREAM_MAXLEN });
  // A session's server is built when a client starts one, from the routes' clients (made below).
  const mcp = new McpSessions({
    build: (hooks) => createMcpServer({ calls: mcpCalls, tasks: routeDeps.tasks }, hooks),
    hub: feeds.hub,
    maxSessions: deps.config.MCP_MAX_SESSIONS,
    idleMs: deps.config.MCP_SESSION_IDLE,
    logger: deps.logger,
  });
  const metrics = createMetrics({
    subscriber: deps.subscriber,
    entityUpdates,
    redis: deps.redis,
    redisKeyPrefix: eventKeyPrefix(deps.config),
    feeds,
    mcpSessions: () => mcp.size,
  });
  // First, so that everything below (the request log line included) happens within the request's span.
  if (tracingEnabled(deps.config)) app.use(httpServerSpans());
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
  // The Web UI calls the codec endpoint from its own origin; browsers send the preflight without a token.
  app.use('/codec/*', cors({ origin: codecCorsOrigins(deps.config), allowMethods: ['POST'], allowHeaders: ['Content-Type', 'Authorization', 'X-Namespace'], credentials: true }));
  app.use(authenticate(deps.config, { fetch: deps.fetch }));
  if (deps.tenant !== undefined) {
    // Behind the tenant router only its callers arrive; said again here, where the tenant's data is.
    app.use(async (c, next) => {
      const principal = c.get('principal') as { tenant?: string } | undefined;
      const shared = c.req.path.startsWith('/codec/') || PUBLIC_PATHS.some((p) => p.test(c.req.path));
      if (principal !== undefined && !shared && principal.tenant !== deps.tenant) throw new ApiError(403, 'Forbidden: another tenant');
      await next();
    });
  }
  // A user's chat is theirs alone: /chat/{user_id} and everything under it (history, approvals, profile, undo).
  const chatOwnerOnly = async (c: Context<AppEnv>, next: Next) => {
    requireChatOwner(c, c.req.param('user_id') ?? '');
    await next();
  };
  app.use('/chat/:user_id', chatOwnerOnly);
  app.use('/chat/:user_id/*', chatOwnerOnly);
  // Answers of the routes about one entity (their pattern names its id) link to its workflow in the Web UI,
  // which opens the entity's current run.
  const entityLinks: [param: string, workflowId: (id: string) => string][] = [
    ['task_id', taskEntityWorkflowId],
    ['user_id', chatEntityWorkflowId],
    ['project_id', projectEntityWorkflowId],
  ];
  app.use(async (c, next) => {
    await next();
    if (c.res.status >= 400) return;
    const route = matchedRoute(c);
    const entity = route === undefined ? undefined : entityLinks.find(([param]) => route.includes(`:${param}`));
    if (entity) c.header('Link', `<${temporalUiLink(deps.config, entity[1](c.req.param(entity[0]) ?? ''))}>; rel="related"; title="Temporal Web UI"`);
  });
  const limitBody = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: (c) => c.json(errorBody(`Request body is larger than ${maxSize} bytes`, [{ field: 'body', message: 'too large' }]), 413),
    });
  const requestBodyLimit = limitBody(deps.config.MAX_BODY_BYTES);
  // The Web UI decodes whole payload lists at once; one payload alone may be up to Temporal's 2 MB.
  const codecBodyLimit = limitBody(CODEC_MAX_BODY_BYTES);
  app.use((c, next) => (c.req.path.startsWith('/codec/') ? codecBodyLimit : requestBodyLimit)(c, next));
  app.use(acceptJsonBodies);

  const routeDeps: RouteDeps = {
    ...deps,
    processing: new ProcessingClient(deps.client, deps.config.TASK_QUEUE),
    tasks: new TaskEntityClient(deps.client, deps.config.TASK_QUEUE),
    chats: new ChatEntityClient(deps.client, deps.config.TASK_QUEUE),
    projects: new ProjectEntityClient(deps.client, deps.config.TASK_QUEUE),
    projectSetups: new ProjectSetupClient(deps.client, deps.config.TASK_QUEUE),
    entityUpdates,
    codec: deps.config.PAYLOAD_ENCRYPTION_KEYS ? new AesGcmPayloadCodec(deps.config.PAYLOAD_ENCRYPTION_KEYS) : undefined,
    feeds,
    live,
  };
  app.route('/', healthRoutes(routeDeps));
  app.route('/', processingRoutes(routeDeps));
  app.route('/', taskRoutes(routeDeps));
  app.route('/', projectRoutes(routeDeps));
  app.route('/', workflowRoutes(routeDeps));
  app.route('/', chatRoutes(routeDeps));
  app.route('/', agentRoutes(routeDeps));
  app.route('/', chatStreamRoutes(routeDeps));
  app.route('/', eventRoutes(routeDeps));
  app.route('/', codecRoutes(routeDeps));
  const mcpCalls = new McpToolCalls(routeDeps);
  app.route('/', mcpRoutes(mcp));

  // Swagger UI's "Authorize" takes the token; every route but health, metrics and docs needs one when auth is on.
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'API_TOKEN, or a JWT (AUTH_JWT_SECRET / AUTH_JWKS_URL) whose `sub` is the user id',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    security: [{ bearer: [] }],
    info: {
      title: 'task-agent',
      version: '0.1.0',
      description: 'Stateful task agent on Temporal: processing workflow with saga compensation, task entities.',
    },
  });

  app.route('/', docsRoutes());
  app.route('/', webRoutes(deps.config.WEB_DIST_DIR));

  app.notFound((c) => c.json(errorBody(`No route for ${c.req.method} ${c.req.path}`), 404));
  app.onError(createErrorHandler(deps.logger));
  return { app, metrics: metrics.app, close: async () => void (await Promise.all([mcp.close(), feeds.close()])) };
}
