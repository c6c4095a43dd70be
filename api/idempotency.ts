/**
 * The `Idempotency-Key` request header (IETF httpapi draft "The Idempotency-Key HTTP Header Field") on the
 * requests that change things and may take long: `POST /chat/{user_id}`, `/undo`, `/approvals/{id}` and
 * `POST /tasks`. This reads the key and fingerprints the request; the entity the request goes to keeps the
 * key with its first answer for a day, across continue-as-new (entities/idempotency.ts), so:
 *   - the same key and request again get the first answer (a resend while the first still runs waits for it);
 *   - the same key with another request is refused with 422.
 * Keys are per caller: the fingerprint holds who calls, what and where.
 */
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import type { KeyedRequest } from '../entities/idempotency';
import { principalOf } from './access';
import { ApiError } from './errors';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/**
 * The key of this request, if it has one. The draft's key is a Structured Field string (`"abc"`); a bare
 * token, as many clients send it, is taken too. Printable ASCII, 1 to 255 characters.
 */
export function idempotencyKeyOf(c: Context): string | undefined {
  const header = c.req.header(IDEMPOTENCY_KEY_HEADER);
  if (header === undefined) return undefined;
  const raw = header.trim();
  const quoted = /^"((?:[\x20\x21\x23-\x5B\x5D-\x7E]|\\["\\])*)"$/.exec(raw);
  const key = quoted ? quoted[1]!.replace(/\\(["\\])/g, '$1') : raw;
  if (key.length === 0 || key.length > 255 || !/^[\x20-\x7E]+$/.test(key)) {
    throw new ApiError(422, 'Request validation failed', [
      { field: 'idempotency-key', message: 'must be 1 to 255 printable ASCII characters, e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324"' },
    ]);
  }
  return key;
}

/** The key and the request's fingerprint (caller, method, path and body, the body's fields in any order). */
export function keyedRequest(c: Context, body: unknown = null): KeyedRequest | undefined {
  const key = idempotencyKeyOf(c);
  if (key === undefined) return undefined;
  const caller = principalOf(c).subject;
  const request = [caller, c.req.method, c.req.path, canonicalJson(body)].join('\n');
  return { key, fingerprint: createHash('sha256').update(request).digest('base64url'), caller };
}

/** JSON with object keys sorted, so that the same body always gives the same fingerprint. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
