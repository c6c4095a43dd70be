/**
 * Tenants kept apart (TENANTS; docs/tenants.md): each tenant is a Temporal namespace of its own, so each gets
 * the whole app (api/app.ts) built on a client of its namespace and on its own Redis keys, and a router in
 * front sends each request to its caller's tenant: a user's from their token's TENANT_CLAIM, the service
 * credential's (and an open API's) from `X-Tenant`. Nothing of one tenant's app can reach another's namespace
 * or streams, so an id of another tenant is simply not there: 404, never 403, and existence does not leak.
 *
 * What is the same for every tenant goes to the first tenant's app: health, the API docs, the web page (it
 * asks for a token and then calls the API like anyone), the codec endpoint (one key set for the deployment).
 */
import { Hono } from 'hono';
import { clientFor } from '../common/temporal';
import { tenantConfig, type Config } from '../common/config';
import type { EventSubscriber } from '../events/subscriber';
import { PUBLIC_PATHS, authenticate, principalOf, type AccessVariables } from './access';
import { createApi, type Api } from './app';
import type { AppDeps } from './deps';
import { createErrorHandler, errorBody } from './errors';

/** The service's API: one app, or with TENANTS one per tenant behind the router. */
export interface ServedApi {
  fetch: (request: Request, env?: unknown) => Response | Promise<Response>;
  /** The Prometheus app: `/metrics` (the first tenant's with TENANTS) and `/metrics/{tenant}`. */
  metrics: Hono;
  close(): Promise<void>;
}

export interface ServiceApiDeps extends AppDeps {
  /** With TENANTS: each tenant's event subscriber (the API process consumes every tenant's streams). */
  subscriberFor?: (config: Config) => EventSubscriber | undefined;
}

export function createServiceApi(deps: ServiceApiDeps): ServedApi {
  const tenants = deps.config.TENANTS;
  if (tenants === undefined) {
    const api = createApi(deps);
    return { fetch: api.app.fetch, metrics: api.metrics, close: api.close };
  }
  const subscribers: EventSubscriber[] = [];
  const apis = new Map<string, Api>();
  for (const tenant of tenants) {
    const config = tenantConfig(deps.config, tenant);
    const subscriber = deps.subscriberFor?.(config);
    if (subscriber) {
      subscriber.start();
      subscribers.push(subscriber);
    }
    apis.set(tenant.id, createApi({ ...deps, config, client: clientFor(deps.client, config), tenant: tenant.id, subscriber }));
  }
  const first = apis.get(tenants[0]!.id)!;
  const router = new Hono<{ Variables: AccessVariables }>();
  const codec = (path: string) => path.startsWith('/codec/');
  // Public paths, and the codec's CORS preflight (a browser sends it without a token), need no tenant.
  router.use(async (c, next) => (PUBLIC_PATHS.some((p) => p.test(c.req.path)) || (codec(c.req.path) && c.req.method === 'OPTIONS') ? first.app.fetch(c.req.raw, c.env) : next()));
  router.use(authenticate(deps.config, { fetch: deps.fetch }));
  router.all('*', async (c) => {
    const principal = principalOf(c);
    if (codec(c.req.path)) {
      // One key set for the deployment: its admins (the service credential, an admin of a tenant served here)
      // decode, and a user's only for their own namespace when the caller names one (the Web UI's X-Namespace).
      const tenant = tenants.find((t) => t.id === principal.tenant);
      const namespace = c.req.header('x-namespace');
      if (principal.kind === 'user' && (tenant === undefined || (namespace !== undefined && namespace !== tenant.namespace))) {
        return c.json(errorBody('Forbidden: this needs the admin right of the namespace asked for'), 403);
      }
      return first.app.fetch(c.req.raw, c.env);
    }
    const api = principal.tenant === undefined ? undefined : apis.get(principal.tenant);
    if (api) return api.app.fetch(c.req.raw, c.env);
    if (principal.kind === 'user') {
      const detail = principal.tenant === undefined ? `Forbidden: your token names no tenant (the \`${deps.config.TENANT_CLAIM}\` claim)` : 'Forbidden: your tenant is not served here';
      return c.json(errorBody(detail), 403);
    }
    return c.json(errorBody('Request validation failed', [{ field: 'x-tenant', message: `must name a tenant: one of ${tenants.map((t) => t.id).join(', ')}` }]), 422);
  });

  router.onError(createErrorHandler(deps.logger));

  const metrics = new Hono();
  metrics.get('/metrics', (c) => first.metrics.fetch(c.req.raw));
  metrics.get('/metrics/:tenant', (c) => {
    const api = apis.get(c.req.param('tenant'));
    return api ? api.metrics.fetch(new Request(new URL('/metrics', c.req.url), c.req.raw)) : c.json(errorBody('No such tenant'), 404);
  });
  return {
    fetch: router.fetch,
    metrics,
    close: async () => {
      await Promise.all([...apis.values()].map((api) => api.close()));
      await Promise.all(subscribers.map((s) => s.stop()));
    },
  };
}
