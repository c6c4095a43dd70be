/** Redis connection from configuration. */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { Config } from './config';
import type { Logger } from './logger';

/** Passwords and `rediss://` (TLS) come with REDIS_URL; REDIS_TLS_CA_PATH adds a private CA. */
export function connectRedis(config: Pick<Config, 'REDIS_URL' | 'REDIS_TLS_CA_PATH'>, logger?: Logger): Redis {
  const tls = config.REDIS_URL.startsWith('rediss://') && config.REDIS_TLS_CA_PATH ? { tls: { ca: readFileSync(config.REDIS_TLS_CA_PATH) } } : {};
  const redis = new Redis(config.REDIS_URL, {
    ...tls,
    // Fail commands fast while Redis is down instead of queueing them forever; callers (activities) retry.
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    lazyConnect: false,
  });
  if (logger) logRedisErrors(redis, logger);
  return redis;
}

/**
 * A connection without an 'error' listener makes ioredis print "Unhandled error event" on every reconnect
 * attempt. Log instead, once per 10 s while Redis stays away: the outage is visible, not a flood.
 */
export function logRedisErrors(redis: Redis, logger: Logger, everyMs = 10_000): Redis {
  let lastLogged = 0;
  let suppressed = 0;
  redis.on('error', (err: Error) => {
    const now = Date.now();
    if (now - lastLogged < everyMs) {
      suppressed++;
      return;
    }
    logger.warn({ err: err.message, suppressed }, 'redis error');
    lastLogged = now;
    suppressed = 0;
  });
  redis.on('ready', () => {
    if (lastLogged !== 0) logger.info('redis connection back');
    lastLogged = 0;
  });
  return redis;
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
