/** Redis connection from configuration: one Redis (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES). */
import { readFileSync } from 'node:fs';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config';
import type { Logger } from './logger';

/** What the service talks to: the commands it uses behave the same on both (keys of one command share a slot). */
export type RedisConnection = Redis | Cluster;

type RedisConfig = Pick<Config, 'REDIS_URL' | 'REDIS_TLS_CA_PATH' | 'REDIS_CLUSTER_NODES'>;

/** Passwords and `rediss://` (TLS) come with REDIS_URL; REDIS_TLS_CA_PATH adds a private CA. */
export function connectRedis(config: RedisConfig, logger?: Logger): RedisConnection {
  const url = new URL(config.REDIS_URL);
  const tls = url.protocol === 'rediss:' ? { tls: config.REDIS_TLS_CA_PATH ? { ca: readFileSync(config.REDIS_TLS_CA_PATH) } : {} } : {};
  const options: RedisOptions = {
    ...tls,
    // Fail commands fast while Redis is down instead of queueing them forever; callers (activities) retry.
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    lazyConnect: false,
  };
  const redis = config.REDIS_CLUSTER_NODES
    ? new Cluster(
        config.REDIS_CLUSTER_NODES.map((node) => {
          const [host, port] = node.split(':') as [string, string];
          return { host, port: Number(port) };
        }),
        {
          redisOptions: {
            ...options,
            // Nodes are dialled at the addresses the cluster announces: their certificates are checked
            // against REDIS_URL's host name (managed clusters' certificates name the endpoint, not the IPs).
            ...(tls.tls ? { tls: { ...tls.tls, servername: url.hostname } } : {}),
            ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
            ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
          },
          // A cluster client queues commands while no node answers, whatever maxRetriesPerRequest says;
          // fail them instead, as on one Redis: activities retry, and nothing piles up for a burst afterwards.
          enableOfflineQueue: false,
          // A primary that died: the cluster promotes its replica within cluster-node-timeout; until the slot
          // map says so, commands wait and retry instead of failing at once.
          retryDelayOnFailover: 300,
          retryDelayOnClusterDown: 300,
          retryDelayOnTryAgain: 100,
          maxRedirections: 16,
          slotsRefreshTimeout: 2_000,
          clusterRetryStrategy: (times) => Math.min(200 * times, 2_000),
        },
      )
    : new Redis(config.REDIS_URL, options);
  if (logger) logRedisErrors(redis, logger);
  return redis;
}

/** A second connection like this one (same nodes and options), for a blocking reader. */
export function duplicateConnection(redis: RedisConnection): RedisConnection {
  return redis instanceof Cluster ? redis.duplicate() : redis.duplicate();
}

/**
 * Where the event keys live: REDIS_KEY_PREFIX, plus on a cluster the hash tag `{events}`, so both streams (read
 * together by one XREADGROUP) and the publish markers (written with their stream in one script) share a slot.
 */
export function eventKeyPrefix(config: Pick<Config, 'REDIS_KEY_PREFIX' | 'REDIS_CLUSTER_NODES'>): string {
  return config.REDIS_CLUSTER_NODES ? `${config.REDIS_KEY_PREFIX}{events}:` : config.REDIS_KEY_PREFIX;
}

/** How many replicas must have an event before its publish counts (EVENT_PUBLISH_REPLICAS, by default 1 on a cluster). */
export function eventPublishReplicas(config: Pick<Config, 'EVENT_PUBLISH_REPLICAS' | 'REDIS_CLUSTER_NODES'>): number {
  return config.EVENT_PUBLISH_REPLICAS ?? (config.REDIS_CLUSTER_NODES ? 1 : 0);
}

/**
 * A connection without an 'error' listener makes ioredis print "Unhandled error event" on every reconnect
 * attempt. Log instead, once per 10 s while Redis stays away: the outage is visible, not a flood.
 */
export function logRedisErrors<R extends RedisConnection>(redis: R, logger: Logger, everyMs = 10_000): R {
  let lastLogged = 0;
  let suppressed = 0;
  const warn = (fields: Record<string, unknown>, message: string) => {
    const now = Date.now();
    if (now - lastLogged < everyMs) {
      suppressed++;
      return;
    }
    logger.warn({ ...fields, suppressed }, message);
    lastLogged = now;
    suppressed = 0;
  };
  redis.on('error', (err: Error) => warn({ err: err.message }, 'redis error'));
  // A cluster reports one node's trouble (a primary gone, a failover under way) as 'node error' only.
  if (redis instanceof Cluster) redis.on('node error', (err: Error, node: string) => warn({ err: err.message, node }, 'redis cluster node error'));
  (redis as Redis).on('ready', () => {
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
