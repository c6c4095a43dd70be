/** Redis connection from configuration. */
import { Redis } from 'ioredis';
import type { Config } from './config';

export function connectRedis(config: Pick<Config, 'REDIS_URL'>): Redis {
  return new Redis(config.REDIS_URL, {
    // Fail commands fast while Redis is down instead of queueing them forever; callers (activities) retry.
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    lazyConnect: false,
  });
}
