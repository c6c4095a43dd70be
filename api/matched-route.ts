/** Which route answered a request, for the metrics, the request's span and the Web UI links. */
import type { Context } from 'hono';
import { routePath } from 'hono/route';

/**
 * The pattern of the handler that answered (`/tasks/:task_id`, never the raw path), or undefined when no
 * route matched: then the last match is the catch-all middleware's `/*`. Call after `next()`.
 */
export function matchedRoute(c: Context): string | undefined {
  const route = routePath(c, -1);
  return route === '/*' ? undefined : route;
}
