/**
 * Who is calling, and what they may do. One middleware authenticates every request but health and the API
 * docs (metrics are served on a port of their own, api/metrics.ts), and leaves a `principal` on the context; routes ask the helpers below for a right.
 *
 * Credentials, in order:
 *   - `API_TOKEN`: the service credential, admin rights (compared by SHA-256 digest with timingSafeEqual);
 *   - a JWT, checked by Hono's `jwt` (AUTH_JWT_SECRET, HS256) or `jwk` middleware (AUTH_JWKS_URL,
 *     RS256/ES256; keys from api/jwks-cache.ts), with AUTH_JWT_ISSUER / AUTH_JWT_AUDIENCE;
 *   - none configured: the API is open and everyone is admin (api/main.ts says so at start).
 * Bad credentials answer 401 with `WWW-Authenticate`; a right the principal lacks answers 403.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { jwk } from 'hono/jwk';
import { jwt } from 'hono/jwt';
import type { Actor } from '../workflows/shared/access-policy';
import type { Viewer } from '../stream/feed';
import { EMAIL_PATTERN } from '../workflows/shared/input-rules';
import type { Config } from '../common/config';
import { JwksCache, JwksUnavailableError } from './jwks-cache';
import { ApiError, errorBody } from './errors';

export interface Principal {
  /** `open`: no auth configured; `service`: API_TOKEN; `user`: a JWT. */
  kind: 'open' | 'service' | 'user';
  /** The token's `sub` for users; `api` otherwise. Recorded as the tasks' `updated_by`. */
  subject: string;
  admin: boolean;
  /** A user's e-mail as the token vouches for it (`email`, unless `email_verified` is false). */
  email?: string;
  /**
   * With TENANTS: whose data the caller reaches. A user's from their token (TENANT_CLAIM), the service
   * credential's and an open API's from the `X-Tenant` header (they serve every tenant).
   */
  tenant?: string;
}

export type AccessVariables = { principal: Principal };

// The web page is public too: it asks for the token and sends it with each call (api/routes/web.ts).
export const PUBLIC_PATHS = [/^\/healthz$/, /^\/readyz$/, /^\/openapi\.json$/, /^\/docs(\/.*)?$/, /^\/$/, /^\/app\.(js|js\.map|css)$/, /^\/favicon\.svg$/];
const REALM = 'task-agent';

const digest = (value: string) => createHash('sha256').update(value).digest();

export type AuthMode = 'open' | 'api-token' | 'jwt-secret' | 'jwks';
export function authModes(config: Config): AuthMode[] {
  const modes: AuthMode[] = [];
  if (config.API_TOKEN !== undefined) modes.push('api-token');
  if (config.AUTH_JWT_SECRET !== undefined) modes.push('jwt-secret');
  if (config.AUTH_JWKS_URL !== undefined) modes.push('jwks');
  return modes.length > 0 ? modes : ['open'];
}

export function authenticate(config: Config, options: { fetch?: typeof fetch } = {}): MiddlewareHandler<{ Variables: AccessVariables }> {
  const serviceToken = config.API_TOKEN === undefined ? undefined : digest(config.API_TOKEN);
  const verification = {
    ...(config.AUTH_JWT_ISSUER ? { iss: config.AUTH_JWT_ISSUER } : {}),
    ...(config.AUTH_JWT_AUDIENCE ? { aud: config.AUTH_JWT_AUDIENCE } : {}),
  };
  const jwks = config.AUTH_JWKS_URL ? new JwksCache(config.AUTH_JWKS_URL, options.fetch) : undefined;
  const verifyJwt: MiddlewareHandler | undefined = config.AUTH_JWT_SECRET
    ? jwt({ secret: config.AUTH_JWT_SECRET, alg: 'HS256', realm: REALM, verification })
    : jwks
      ? jwk({ keys: () => jwks.keys(), alg: ['RS256', 'ES256'], realm: REALM, verification })
      : undefined;
  const open = serviceToken === undefined && verifyJwt === undefined;

  const tenants = config.TENANTS !== undefined;
  const headerTenant = (c: Context) => (tenants ? c.req.header('x-tenant')?.trim() || undefined : undefined);
  const withTenant = (tenant: string | undefined) => (tenant !== undefined ? { tenant } : {});
  return async (c, next) => {
    if (open) {
      c.set('principal', { kind: 'open', subject: 'api', admin: true, ...withTenant(headerTenant(c)) });
      return next();
    }
    if (PUBLIC_PATHS.some((path) => path.test(c.req.path))) return next();
    // Any token text after the scheme (an API_TOKEN may hold spaces; a JWT never does).
    const presented = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1]?.trim();
    if (presented === undefined) return unauthorized(c, 'invalid_request', 'Missing bearer token');
    if (serviceToken !== undefined && timingSafeEqual(digest(presented), serviceToken)) {
      c.set('principal', { kind: 'service', subject: 'api', admin: true, ...withTenant(headerTenant(c)) });
      return next();
    }
    if (verifyJwt === undefined) return unauthorized(c, 'invalid_token', 'Invalid bearer token');

    let verified = false;
    try {
      // A token naming a key we have not seen refreshes the cached JWKS first (a key rotated at the provider).
      await jwks?.prepare(presented);
      await verifyJwt(c, async () => {
        verified = true;
      });
    } catch (err) {
      if (err instanceof JwksUnavailableError) {
        c.header('Retry-After', String(err.retryAfterSeconds));
        return c.json(errorBody(err.message), 503);
      }
      if (err instanceof HTTPException && err.status === 401) return unauthorized(c, 'invalid_token', 'Invalid bearer token');
      throw err;
    }
    if (!verified) return unauthorized(c, 'invalid_token', 'Invalid bearer token');
    const claims = c.get('jwtPayload' as never) as Record<string, unknown>;
    const subject = typeof claims.sub === 'string' ? claims.sub.trim() : '';
    if (subject === '' || subject === 'api' || subject === 'cli') {
      return unauthorized(c, 'invalid_token', 'The token has no usable subject (sub)');
    }
    const email = verifiedEmail(claims, config.AUTH_REQUIRE_EMAIL_VERIFIED);
    const claimed = claims[config.TENANT_CLAIM];
    const tenant = tenants && typeof claimed === 'string' && claimed.trim() !== '' ? claimed.trim() : undefined;
    c.set('principal', { kind: 'user', subject, admin: scopesOf(claims).includes('admin'), ...(email ? { email } : {}), ...withTenant(tenant) });
    return next();
  };
}

/**
 * The OIDC `email` claim, when it looks like an address and the provider does not say it is unverified
 * (`email_verified: false`); with AUTH_REQUIRE_EMAIL_VERIFIED, only when it says `email_verified: true` (for
 * providers that issue addresses they did not verify without saying so). As the token writes it: rights
 * compare addresses case-blind, "my tasks" lists the tasks assigned to exactly this one.
 */
function verifiedEmail(claims: Record<string, unknown>, requireVerified: boolean): string | undefined {
  const { email, email_verified: verified } = claims;
  if (typeof email !== 'string' || verified === false || verified === 'false') return undefined;
  if (requireVerified && verified !== true && verified !== 'true') return undefined;
  const trimmed = email.trim();
  return trimmed.length <= 254 && EMAIL_PATTERN.test(trimmed) ? trimmed : undefined;
}

/** OAuth's space-separated `scope`, or a list under `scope` or `scp` (as some providers issue it). */
function scopesOf(claims: Record<string, unknown>): string[] {
  const scope = claims.scope ?? claims.scp;
  if (typeof scope === 'string') return scope.split(/\s+/);
  return Array.isArray(scope) ? scope.filter((s): s is string => typeof s === 'string') : [];
}

function unauthorized(c: Context, error: 'invalid_request' | 'invalid_token', detail: string) {
  c.header('WWW-Authenticate', `Bearer realm="${REALM}", error="${error}"`);
  return c.json(errorBody(detail, [{ field: 'authorization', message: 'must be "Bearer <token>" with a valid token' }]), 401);
}

export const principalOf = (c: Context): Principal => c.get('principal' as never) as Principal;

export function requireAdmin(c: Context): void {
  if (!principalOf(c).admin) throw new ApiError(403, 'Forbidden: this needs the admin right');
}

/** A user reaches only their own chat (`/chat/{their sub}` and everything under it). */
export function requireChatOwner(c: Context, userId: string): void {
  const principal = principalOf(c);
  if (!principal.admin && principal.subject !== userId) throw new ApiError(403, `Forbidden: this is ${userId}'s chat`);
}

/** The rights a caller carries into entities and the agent's tools (workflows/shared/access-policy.ts): from the token alone. */
export const actorOf = (c: Context): Actor => principalActor(principalOf(c));

/** The rights of a principal (an MCP call's, mcp/tool-calls.ts; a request's, actorOf). */
export function principalActor(principal: Principal): Actor {
  return {
    subject: principal.subject,
    admin: principal.admin,
    ...(principal.kind === 'user' ? { user: true } : {}),
    ...(principal.email ? { email: principal.email } : {}),
  };
}

/** Who reads a chat's streams (stream/feed.ts decides what they see from this): from the token alone. */
export function viewerOf(c: Context, userId: string): Viewer {
  const principal = principalOf(c);
  return { user_id: userId, subject: principal.subject, admin: principal.admin, ...(principal.email ? { email: principal.email } : {}) };
}
