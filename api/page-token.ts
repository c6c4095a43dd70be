/**
 * Page tokens of GET /tasks: Temporal's visibility token wrapped with a checksum over it and the query it
 * belongs to. A token that was mangled, made up, or taken from a listing with other filters is refused at
 * the edge (422), instead of reaching the server, which answers garbage tokens slowly and opaquely.
 */
import { createHash } from 'node:crypto';
import { ApiError } from './errors';

const checksum = (token: string, query: string) => createHash('sha256').update(`${token}\n${query}`).digest('base64url').slice(0, 16);

export function encodePageToken(token: Uint8Array, query: string): string {
  const t = Buffer.from(token).toString('base64url');
  return Buffer.from(JSON.stringify({ t, c: checksum(t, query) })).toString('base64url');
}

export function decodePageToken(pageToken: string, query: string): Buffer {
  try {
    const { t, c } = JSON.parse(Buffer.from(pageToken, 'base64url').toString('utf8')) as { t?: unknown; c?: unknown };
    if (typeof t === 'string' && typeof c === 'string' && c === checksum(t, query)) return Buffer.from(t, 'base64url');
  } catch {
    // Not our JSON: refused below.
  }
  throw invalidPageToken();
}

export const invalidPageToken = () =>
  new ApiError(422, 'Request validation failed', [
    { field: 'page_token', message: 'is not a next_page_token of a listing with the same filters' },
  ]);
