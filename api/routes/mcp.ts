/**
 * MCP: `/mcp`, the Streamable HTTP transport (POST a JSON-RPC message, GET the session's stream, DELETE to end
 * it). The caller is the one api/access.ts verified, as on every route; mcp/sessions.ts does the rest.
 * Not in the OpenAPI document: it is MCP's protocol, not a REST resource (docs/mcp.md).
 */
import { Hono } from 'hono';
import type { McpSessions } from '../../mcp/sessions';
import { principalOf } from '../access';
import type { AppEnv } from '../deps';

export function mcpRoutes(sessions: McpSessions) {
  return new Hono<AppEnv>().all('/mcp', async (c) => {
    let body: unknown;
    if (c.req.method === 'POST') {
      try {
        body = await c.req.json();
      } catch {
        return c.json({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error: the body is not JSON' }, id: null }, 400);
      }
    }
    return sessions.handle(c.req.raw, principalOf(c), body);
  });
}
