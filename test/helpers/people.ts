/** Users with real signed tokens (HS256 with AUTH_JWT_SECRET), for the tests that act as people do. */
import { SignJWT } from 'jose';
import { uniqueId } from './harness';

/** The secret the harnesses of these tests are given as AUTH_JWT_SECRET. */
export const TEST_JWT_SECRET = 'a-test-secret-of-at-least-32-characters!';

export async function tokenFor(sub: string, claims: Record<string, unknown> = {}, secret = TEST_JWT_SECRET): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt(now).setExpirationTime(now + 3600).sign(new TextEncoder().encode(secret));
}

export interface Person {
  id: string;
  /** The e-mail their token vouches for. */
  email: string;
  token: string;
  /** The header their browser sends. */
  auth: { authorization: string };
}

/** A user of their own (a unique id), with a verified e-mail. */
export async function person(name: string): Promise<Person> {
  const id = uniqueId(name);
  const email = `${id}@example.com`;
  const token = await tokenFor(id, { email, email_verified: true });
  return { id, email, token, auth: { authorization: `Bearer ${token}` } };
}
