/**
 * Per-user access with real signed tokens (jose): HS256 with AUTH_JWT_SECRET, RS256/ES256 from a local JWKS
 * server (AUTH_JWKS_URL) including a key rotated there. Bad tokens of every kind answer 401 with
 * WWW-Authenticate; a valid token without the right answers 403; the default policy holds through the API
 * and through the agent's tools; every change records who made it (`updated_by`).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../common/config';
import { Harness, eventually, seedTask, uniqueId } from './helpers/harness';

const SECRET = 'a-test-secret-of-at-least-32-characters!';
const ISSUER = 'https://idp.test';
const AUDIENCE = 'task-agent';
const API_TOKEN = 'service-token-for-tests';
const alice = uniqueId('alice');
const bob = uniqueId('bob');
const root = uniqueId('root');

type Claims = { sub?: string; scope?: string; iss?: string; aud?: string; exp?: number; nbf?: number; email?: string; email_verified?: boolean };

async function hs256(claims: Claims, secret = SECRET): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const extra = {
    ...(claims.scope ? { scope: claims.scope } : {}),
    ...(claims.email ? { email: claims.email } : {}),
    ...(claims.email_verified !== undefined ? { email_verified: claims.email_verified } : {}),
  };
  return new SignJWT(extra)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub ?? alice)
    .setIssuer(claims.iss ?? ISSUER)
    .setAudience(claims.aud ?? AUDIENCE)
    .setIssuedAt(now)
    .setNotBefore(claims.nbf ?? now)
    .setExpirationTime(claims.exp ?? now + 300)
    .sign(new TextEncoder().encode(secret));
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('JWT with AUTH_JWT_SECRET (HS256)', () => {
  let h: Harness;
  const as = (token: string, init: RequestInit = {}) => ({ ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await h.fetch(path, as(token, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));
    return { status: res.status, body: res.status === 204 ? {} : ((await res.json()) as Record<string, unknown>), headers: res.headers };
  };
  let aliceToken: string;
  let bobToken: string;
  let adminToken: string;

  beforeAll(async () => {
    h = await Harness.start({ env: { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE, API_TOKEN } });
    aliceToken = await hs256({ sub: alice, email: 'Alice@Example.com', email_verified: true });
    bobToken = await hs256({ sub: bob, email: 'bob@example.com' });
    adminToken = await hs256({ sub: root, scope: 'tasks admin' });
  });
  afterAll(() => h?.close());

  it('answers 401 with WWW-Authenticate to every bad token, never 500', async () => {
    const now = Math.floor(Date.now() / 1000);
    const [header, payload] = aliceToken.split('.');
    const cases: [string, string | undefined][] = [
      ['missing', undefined],
      ['malformed', 'not-a-jwt'],
      ['expired', await hs256({ exp: now - 10 })],
      ['not yet valid', await hs256({ nbf: now + 600 })],
      ['wrong issuer', await hs256({ iss: 'https://other.idp' })],
      ['wrong audience', await hs256({ aud: 'someone-else' })],
      ['alg none', `${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.`],
      ['forged (another secret)', await hs256({ scope: 'admin' }, 'another-secret-of-at-least-32-characters')],
      ['tampered claims', `${header}.${b64url({ sub: alice, scope: 'admin', iss: ISSUER, aud: AUDIENCE, exp: now + 300 })}.${aliceToken.split('.')[2]}`],
      ['no subject', await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(AUDIENCE).sign(new TextEncoder().encode(SECRET))],
    ];
    for (const [name, token] of cases) {
      const res = await h.fetch(`/chat/${alice}/history`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
      expect(res.status, name).toBe(401);
      expect(res.headers.get('www-authenticate'), name).toMatch(/^Bearer realm="task-agent", error="invalid_(request|token)"$/);
      expect(((await res.json()) as { detail: string }).detail, name).toBeTruthy();
    }
    // Health, metrics and docs stay open.
    expect((await h.fetch('/healthz')).status).toBe(200);
  });

  it('keeps each chat to its user: their own works, another user’s is 403, an admin reaches any', async () => {
    expect((await call(aliceToken, 'POST', `/chat/${alice}`, { content: 'hello' })).status).toBe(200);
    for (const [method, path] of [
      ['GET', `/chat/${alice}/history`],
      ['POST', `/chat/${alice}`],
      ['GET', `/chat/${alice}/approvals`],
      ['GET', `/chat/${alice}/profile`],
      ['POST', `/chat/${alice}/undo`],
      ['DELETE', `/chat/${alice}/history`],
    ] as const) {
      const res = await call(bobToken, method, path, method === 'POST' ? { content: 'hi' } : undefined);
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    expect((await call(aliceToken, 'GET', `/chat/${alice}/history`)).status).toBe(200);
    expect((await call(adminToken, 'GET', `/chat/${alice}/history`)).status).toBe(200);
    expect((await call(API_TOKEN, 'GET', `/chat/${alice}/history`)).status).toBe(200);
  });

  it('lets users read, create and process tasks; status changes only by the assignee; deletes only by admins; records who changed what', async () => {
    const taskId = uniqueId('auth-task');
    expect((await call(aliceToken, 'POST', '/tasks/process', seedTask(taskId, { assignee: 'alice@example.com' }))).status).toBe(200);
    await eventually(() => call(aliceToken, 'GET', `/workflows/task-workflow-${taskId}`), (r) => r.body.status === 'COMPLETED');
    const processed = await call(bobToken, 'GET', `/tasks/${taskId}`);
    expect(processed.body).toMatchObject({ status: 'assigned', updated_by: alice });

    // The assignee is who the token's e-mail says: not bob, and alice whatever her address's case.
    expect((await call(bobToken, 'PUT', `/tasks/${taskId}/status`, { status: 'in_progress' })).status).toBe(403);
    const moved = await call(aliceToken, 'PUT', `/tasks/${taskId}/status`, { status: 'in_progress' });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ status: 'in_progress', updated_by: alice });

    // A change sent straight to the entity (the temporal CLI) names nobody: `cli`.
    const cli = await h.client.workflow.getHandle(`task-entity-${taskId}`).executeUpdate<Record<string, unknown>, [unknown]>('setDeadline', { args: [{ deadline_seconds: 600 }] });
    expect(cli.updated_by).toBe('cli');
    const byService = await call(API_TOKEN, 'PUT', `/tasks/${taskId}/status`, { status: 'assigned' });
    expect(byService.body).toMatchObject({ status: 'assigned', updated_by: 'api' });

    const denied = await call(aliceToken, 'DELETE', `/tasks/${taskId}`);
    expect(denied.status).toBe(403);
    expect(String(denied.body.detail)).toMatch(/admin/);
    expect((await call(bobToken, 'GET', `/tasks/${taskId}`)).status).toBe(200);
    expect((await call(adminToken, 'DELETE', `/tasks/${taskId}`)).status).toBe(204);
  });

  it('takes who a user is from the token, never from the profile they typed', async () => {
    const taskId = uniqueId('identity-task');
    await call(API_TOKEN, 'POST', '/tasks/process', seedTask(taskId, { assignee: 'alice@example.com' }));
    await eventually(() => call(API_TOKEN, 'GET', `/workflows/task-workflow-${taskId}`), (r) => r.body.status === 'COMPLETED');
    const carol = uniqueId('carol');
    const carolToken = await hs256({ sub: carol }); // no e-mail in her token
    const daveToken = await hs256({ sub: uniqueId('dave'), email: 'alice@example.com', email_verified: false });

    // A token that vouches for an e-mail fixes the profile's: bob cannot write alice's there.
    const claimed = await call(bobToken, 'PUT', `/chat/${bob}/profile`, { email: 'alice@example.com' });
    expect(claimed.status).toBe(422);
    expect(claimed.body.errors).toEqual([{ field: 'email', message: 'must be the e-mail your token vouches for (bob@example.com), or left out' }]);
    const own = await call(aliceToken, 'PUT', `/chat/${alice}/profile`, { name: 'Alice', email: 'alice@example.com' });
    expect(own.body).toMatchObject({ email: 'alice@example.com', email_verified: true });

    // Carol's token names no e-mail: she may write one in her profile, it is shown unverified and grants nothing.
    const typed = await call(carolToken, 'PUT', `/chat/${carol}/profile`, { email: 'alice@example.com' });
    expect(typed.body).toMatchObject({ email: 'alice@example.com', email_verified: false });
    const byApi = await call(carolToken, 'PUT', `/tasks/${taskId}/status`, { status: 'in_progress' });
    expect(byApi.status).toBe(403);
    expect(String(byApi.body.detail)).toMatch(/needs a verified e-mail in your token/);
    // An e-mail the provider says is unverified counts as none.
    expect((await call(daveToken, 'PUT', `/tasks/${taskId}/status`, { status: 'in_progress' })).status).toBe(403);

    // Through her agent neither: no status change, "my tasks" unknown, and alice's task is someone else's (asked first).
    expect((await call(carolToken, 'POST', `/chat/${carol}`, { content: `/status ${taskId} in_progress` })).body.content).toMatch(/^Not allowed: changing the status of .* needs a verified e-mail/);
    expect((await call(carolToken, 'POST', `/chat/${carol}`, { content: '/tasks mine' })).body.content).toMatch(/^No verified e-mail address is known for the user/);
    const reassign = await call(carolToken, 'POST', `/chat/${carol}`, { content: `/assign ${taskId} carol@example.com` });
    expect(reassign.body.content).toContain(`${taskId}: assignee alice@example.com → carol@example.com`);
    expect((await call(carolToken, 'GET', `/chat/${carol}/approvals`)).body.approvals).toHaveLength(1);
    expect((await call(carolToken, 'GET', `/tasks/${taskId}`)).body).toMatchObject({ assignee: 'alice@example.com', status: 'assigned' });
  });

  it("gives the agent's tools its user's rights, no more", async () => {
    const taskId = uniqueId('auth-agent');
    await call(API_TOKEN, 'POST', '/tasks/process', seedTask(taskId, { assignee: 'carol@example.com' }));
    await eventually(() => call(API_TOKEN, 'GET', `/workflows/task-workflow-${taskId}`), (r) => r.body.status === 'COMPLETED');

    const deleting = await call(aliceToken, 'POST', `/chat/${alice}`, { content: `/delete ${taskId}` });
    expect(deleting.body.content).toMatch(/not allowed: deleting a task needs the admin right/i);
    expect((await call(aliceToken, 'GET', `/chat/${alice}/approvals`)).body).toEqual({ approvals: [] });
    const moving = await call(aliceToken, 'POST', `/chat/${alice}`, { content: `/status ${taskId} in_progress` });
    expect(moving.body.content).toMatch(/only the assignee \(carol@example.com\) or an admin/);
    expect((await call(aliceToken, 'GET', `/tasks/${taskId}`)).body).toMatchObject({ status: 'assigned', version: 3 });

    // Her own task she moves along; the change is hers.
    await call(aliceToken, 'POST', `/chat/${alice}`, { content: `/assign ${taskId} alice@example.com` });
    const approvals = (await call(aliceToken, 'GET', `/chat/${alice}/approvals`)).body.approvals as { approval_id: string }[];
    expect(approvals).toHaveLength(1); // reassigning carol's task asks first
    await call(aliceToken, 'POST', `/chat/${alice}/approvals/${approvals[0]!.approval_id}`, { approved: true });
    const own = await call(aliceToken, 'POST', `/chat/${alice}`, { content: `/status ${taskId} in_progress` });
    expect(own.body.content).not.toMatch(/not allowed/i);
    expect((await call(aliceToken, 'GET', `/tasks/${taskId}`)).body).toMatchObject({ status: 'in_progress', assignee: 'alice@example.com', updated_by: alice });

    // An admin's agent deletes (after the approval every deletion asks for).
    await call(adminToken, 'POST', `/chat/${root}`, { content: `/delete ${taskId}` });
    const [approval] = (await call(adminToken, 'GET', `/chat/${root}/approvals`)).body.approvals as { approval_id: string }[];
    await call(adminToken, 'POST', `/chat/${root}/approvals/${approval!.approval_id}`, { approved: true });
    expect((await call(adminToken, 'GET', `/tasks/${taskId}`)).status).toBe(404);
  });

  it('keeps the codec endpoint to admins', async () => {
    const body = { payloads: [] };
    expect((await call(aliceToken, 'POST', '/codec/decode', body)).status).toBe(403);
    expect((await call(adminToken, 'POST', '/codec/decode', body)).status).toBe(200);
    expect((await h.fetch('/codec/decode', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"payloads":[]}' })).status).toBe(401);
  });
});

describe('AUTH_REQUIRE_EMAIL_VERIFIED', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start({ env: { AUTH_JWT_SECRET: SECRET, AUTH_REQUIRE_EMAIL_VERIFIED: 'true' } });
  });
  afterAll(() => h?.close());

  it('takes a token’s e-mail only when the provider says it verified it', async () => {
    const profile = async (token: string, sub: string) =>
      (await h.fetch(`/chat/${sub}/profile`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ email: 'someone@example.com' }) })).json();
    const unsaid = uniqueId('unsaid');
    // No email_verified: no e-mail, so the profile may hold any (unverified); with true, only the token's.
    expect(await profile(await hs256({ sub: unsaid, email: 'unsaid@example.com' }), unsaid)).toMatchObject({ email: 'someone@example.com', email_verified: false });
    const said = uniqueId('said');
    expect(await profile(await hs256({ sub: said, email: 'said@example.com', email_verified: true }), said)).toMatchObject({
      errors: [{ field: 'email', message: 'must be the e-mail your token vouches for (said@example.com), or left out' }],
    });
  });
});

describe('JWT with AUTH_JWKS_URL (RS256, ES256)', () => {
  let h: Harness;
  let jwks: Server;
  let published: JWK[] = [];
  let fetches = 0;
  let available = true;

  const signer = async (alg: 'RS256' | 'ES256', kid: string) => {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    const sign = (sub: string, { scope, aud = AUDIENCE }: { scope?: string; aud?: string } = {}) =>
      new SignJWT(scope ? { scope } : {}).setProtectedHeader({ alg, kid }).setSubject(sub).setAudience(aud).setIssuedAt().setExpirationTime('5m').sign(privateKey);
    return { jwk, sign };
  };

  beforeAll(async () => {
    jwks = createServer((_req, res) => {
      fetches += 1;
      if (!available) return res.writeHead(503).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    h = await Harness.start({ worker: false, env: { AUTH_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`, AUTH_JWT_AUDIENCE: AUDIENCE } });
  });
  afterAll(async () => {
    await h?.close();
    jwks?.close();
  });

  const status = async (token: string) => (await h.fetch('/events/stats', { headers: { authorization: `Bearer ${token}` } })).status;

  it('answers 503, not 401, while no signing keys can be had', async () => {
    available = false;
    const { sign } = await signer('RS256', 'rsa-0');
    const res = await h.fetch('/events/stats', { headers: { authorization: `Bearer ${await sign(alice)}` } });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // While the provider stays away, the keys are asked for again after a pause, not on every request.
    const before = fetches;
    let retryAfter = 0;
    for (let i = 0; i < 20; i++) {
      const again = await h.fetch('/events/stats', { headers: { authorization: `Bearer ${await sign(alice)}` } });
      expect(again.status).toBe(503);
      retryAfter = Number(again.headers.get('retry-after'));
    }
    expect(fetches - before).toBeLessThanOrEqual(1);
    available = true;
    // The pause the last answer named: then the keys are asked for again.
    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 100));
  });

  it('accepts RS256 and ES256 tokens from the provider, fetching its keys once', async () => {
    const rsa = await signer('RS256', 'rsa-1');
    const ec = await signer('ES256', 'ec-1');
    published = [rsa.jwk, ec.jwk];
    const before = fetches;
    for (let i = 0; i < 5; i++) {
      expect(await status(await rsa.sign(alice))).toBe(200);
      expect(await status(await ec.sign(bob))).toBe(200);
    }
    expect(fetches - before).toBe(1);
    // An HS256 token signed with a public key as its secret (algorithm confusion) is refused.
    const confused = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).setSubject(root).sign(new TextEncoder().encode(JSON.stringify(rsa.jwk)));
    expect(await status(confused)).toBe(401);
    // A token from a key the provider does not publish.
    const stranger = await signer('RS256', 'rsa-stranger');
    expect(await status(await stranger.sign(alice))).toBe(401);
  });

  it('refetches the keys when a token names a new one (a key rotated at the provider)', async () => {
    const rotated = await signer('ES256', 'ec-2');
    published = [rotated.jwk];
    await new Promise((r) => setTimeout(r, 1_100)); // at most one refetch per second
    expect(await status(await rotated.sign(alice))).toBe(200);
  });

  it('refuses a token the provider issued for another application (audience)', async () => {
    const rsa = await signer('RS256', 'rsa-aud');
    published = [rsa.jwk];
    await new Promise((r) => setTimeout(r, 1_100)); // let the cache take the new key
    expect(await status(await rsa.sign(alice))).toBe(200);
    expect(await status(await rsa.sign(alice, { aud: 'another-application' }))).toBe(401);
  });

  it('does not start without an audience to check', () => {
    expect(() => loadConfig({ AUTH_JWKS_URL: 'http://idp.test/jwks.json' })).toThrow(/AUTH_JWT_AUDIENCE: AUTH_JWKS_URL needs AUTH_JWT_AUDIENCE/);
  });
});
