/**
 * The identity provider's signing keys (AUTH_JWKS_URL), cached. Hono's `jwk` middleware would fetch the
 * JWKS on every request; this fetches once, again after MAX_AGE, and at once when a token names a key id
 * the cache does not hold (a key rotated at the provider), at most once per MIN_REFRESH so that tokens
 * with made-up key ids cannot flood the provider. While the provider is unreachable the last keys serve;
 * with no keys at all, failed fetches back off (1 s doubling to 30 s) and requests in between answer 503 at
 * once, naming the pause, so that an outage of the provider is not met with a fetch per request.
 */
import type { HonoJsonWebKey } from 'hono/utils/jwt/jws';

const MAX_AGE_MS = 10 * 60_000;
const MIN_REFRESH_MS = 1_000;
const FETCH_TIMEOUT_MS = 5_000;

const BACKOFF_FIRST_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;

/** No keys could be had at all: answered 503, since the token may well be good. */
export class JwksUnavailableError extends Error {
  override name = 'JwksUnavailableError';

  constructor(
    message: string,
    /** When to ask again (Retry-After), in whole seconds. */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export class JwksCache {
  private cached: HonoJsonWebKey[] = [];
  private fetchedAt = 0;
  private refreshing?: Promise<void>;
  /** While no keys were ever had: the last failure, and when to try again. */
  private failure?: { message: string; retryAt: number; backoffMs: number };

  constructor(
    private readonly url: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** The keys to verify with; call prepare(token) first. */
  keys(): HonoJsonWebKey[] {
    return this.cached;
  }

  /** Makes sure the cache is fresh enough for this token (refetching for an unknown key id). */
  async prepare(token: string): Promise<void> {
    const age = Date.now() - this.fetchedAt;
    const kid = keyIdOf(token);
    const unknownKid = kid !== undefined && !this.cached.some((key) => key.kid === kid);
    if (this.fetchedAt === 0 && this.failure && Date.now() < this.failure.retryAt) throw this.unavailable();
    if (this.fetchedAt === 0 || age > MAX_AGE_MS || (unknownKid && age >= MIN_REFRESH_MS)) await this.refresh();
  }

  private unavailable(): JwksUnavailableError {
    const failure = this.failure!;
    const seconds = Math.max(1, Math.ceil((failure.retryAt - Date.now()) / 1000));
    return new JwksUnavailableError(`Cannot fetch the signing keys from AUTH_JWKS_URL (${failure.message}); try again in ${seconds} s`, seconds);
  }

  private refresh(): Promise<void> {
    this.refreshing ??= this.fetchKeys().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async fetchKeys(): Promise<void> {
    try {
      const res = await this.fetchImpl(this.url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const body = (await res.json()) as { keys?: unknown };
      if (!Array.isArray(body.keys)) throw new Error('the answer has no "keys" list');
      this.cached = body.keys as HonoJsonWebKey[];
      this.fetchedAt = Date.now();
      this.failure = undefined;
    } catch (err) {
      if (this.cached.length === 0) {
        const backoffMs = this.failure ? Math.min(this.failure.backoffMs * 2, BACKOFF_MAX_MS) : BACKOFF_FIRST_MS;
        this.failure = { message: err instanceof Error ? err.message : String(err), retryAt: Date.now() + backoffMs, backoffMs };
        throw this.unavailable();
      }
      // Keep serving the keys we have; try again after MIN_REFRESH.
      this.fetchedAt = Date.now() - MAX_AGE_MS + MIN_REFRESH_MS;
    }
  }
}

function keyIdOf(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid?: unknown };
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}
