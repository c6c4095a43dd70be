/**
 * Request bodies are JSON. `curl -d '{...}'` without `-H 'Content-Type: application/json'` (as in the
 * seed's Test 5) sends `application/x-www-form-urlencoded`; such a body, and one with no Content-Type,
 * is read as JSON. Any other non-JSON Content-Type is refused with 415.
 */
import type { MiddlewareHandler } from 'hono';
import { errorBody } from './errors';

const JSON_TYPE = /^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i;
const READ_AS_JSON = /^application\/x-www-form-urlencoded\s*(;|$)/i;

export const acceptJsonBodies: MiddlewareHandler = async (c, next) => {
  if (!['POST', 'PUT', 'PATCH'].includes(c.req.method)) return next();
  const type = c.req.header('content-type') ?? '';
  if (JSON_TYPE.test(type)) return next();
  // No body at all (e.g. `curl -X PUT ".../status?status=completed"`): nothing to read.
  const length = c.req.header('content-length');
  if (type === '' && (length === undefined || length === '0') && c.req.header('transfer-encoding') === undefined) return next();
  if (type === '' || READ_AS_JSON.test(type)) {
    c.req.raw.headers.set('content-type', 'application/json');
    return next();
  }
  return c.json(
    errorBody(`Content-Type ${type} is not supported; send application/json`, [{ field: 'content-type', message: 'must be application/json' }]),
    415,
  );
};
