/**
 * The page's session and its calls to the API. The token is kept in sessionStorage (this tab only, gone when
 * it closes) and sent as a bearer header; it never goes into an address.
 */
export interface Session {
  userId: string;
  token: string | null;
}

const KEY = 'task-agent.session';

export function loadSession(): Session | null {
  try {
    const stored = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Session | null;
    return stored && typeof stored.userId === 'string' ? stored : null;
  } catch {
    return null;
  }
}

export const saveSession = (session: Session) => sessionStorage.setItem(KEY, JSON.stringify(session));
export const clearSession = () => sessionStorage.removeItem(KEY);

/** The `sub` a JWT names (read only to fill in the user id; the API verifies the token). */
export function subjectOf(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: unknown };
    return typeof claims.sub === 'string' ? claims.sub : undefined;
  } catch {
    return undefined;
  }
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const authHeaders = (session: Session): Record<string, string> => (session.token ? { authorization: `Bearer ${session.token}` } : {});

/** Calls the API; JSON in and out. Fails with the API's own `detail` and field errors. */
export async function call<T>(session: Session, method: string, path: string, body?: unknown): Promise<{ body: T; headers: Headers }> {
  const response = await fetch(path, {
    method,
    headers: { ...authHeaders(session), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) {
    const problem = (await response.json().catch(() => ({}))) as { detail?: string; errors?: { field: string; message: string }[] };
    const fields = (problem.errors ?? []).map((e) => `${e.field} ${e.message}`).join('; ');
    throw new ApiFailure(response.status, `${problem.detail ?? `HTTP ${response.status}`}${fields ? `: ${fields}` : ''}`);
  }
  return { body: (response.status === 204 ? undefined : await response.json()) as T, headers: response.headers };
}

/** The Temporal Web UI address an answer's `Link: <…>; rel="related"` header names. */
export function webUiLink(headers: Headers): string | undefined {
  return /<([^>]+)>;\s*rel="related"/.exec(headers.get('link') ?? '')?.[1];
}
