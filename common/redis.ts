/** Redis connection from configuration. */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { Config } from './config';

/** Passwords and `rediss://` (TLS) come with REDIS_URL; REDIS_TLS_CA_PATH adds a private CA. */
export function connectRedis(config: Pick<Config, 'REDIS_URL' | 'REDIS_TLS_CA_PATH'>): Redis {
  const tls = config.REDIS_URL.startsWith('rediss://') && config.REDIS_TLS_CA_PATH ? { tls: { ca: readFileSync(config.REDIS_TLS_CA_PATH) } } : {};
  return new Redis(config.REDIS_URL, {
    ...tls,
    // Fail commands fast while Redis is down instead of queueing them forever; callers (activities) retry.
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    lazyConnect: false,
  });
}

/** Whether a Redis at `url` answers PING now; one try, no reconnecting. */
export async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1_000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
