/**
 * Optional bearer-token auth (API_TOKEN). When set, every route but health, metrics and the API docs needs
 * `Authorization: Bearer <API_TOKEN>`. Tokens are compared by their SHA-256 digests with timingSafeEqual,
 * so neither the content nor the length of the token leaks through response timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { errorBody } from './errors';

const PUBLIC_PATHS = [/^\/healthz$/, /^\/readyz$/, /^\/metrics$/, /^\/openapi\.json$/, /^\/docs(\/.*)?$/];

const digest = (value: string) => createHash('sha256').update(value).digest();

export function bearerAuth(token: string | undefined): MiddlewareHandler {
  if (token === undefined) return (_c, next) => next();
  const expected = digest(token);
  return async (c, next) => {
    if (PUBLIC_PATHS.some((path) => path.test(c.req.path))) return next();
    const presented = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1]?.trim();
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) return next();
    c.header('WWW-Authenticate', 'Bearer realm="task-agent"');
    return c.json(
      errorBody(presented === undefined ? 'Missing bearer token' : 'Invalid bearer token', [
        { field: 'authorization', message: 'must be "Bearer <API_TOKEN>"' },
      ]),
      401,
    );
  };
}
