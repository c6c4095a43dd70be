/**
 * Topics are Redis Streams (`{prefix}stream:{topic}`): XADD to publish, consumer groups to consume.
 * Unlike Redis pub/sub, which drops a message when no subscriber is connected, a stream keeps it until a
 * consumer of the group acknowledges it; this is also how Dapr's Redis pub/sub component works.
 */
import type { CloudEvent, Topic } from '../workflows/shared/cloudevents';
import { Cluster } from 'ioredis';
import type { RedisConnection } from '../common/redis';

export const streamKey = (prefix: string, topic: Topic) => `${prefix}stream:${topic}`;
const publishedKey = (prefix: string, eventId: string) => `${prefix}published:${eventId}`;

/** How long an event id is remembered to make a retried publish a no-op. */
const PUBLISHED_TTL_SECONDS = 7 * 24 * 3600;

// Publish once per event id: a retry after a lost reply finds the marker and adds nothing. Atomic in Redis.
// A retry still writes (the marker's expiry), so a WAIT after it covers the first attempt's write too: WAIT
// counts replicas that have this connection's latest write, and a new connection has none until it writes.
const PUBLISH_ONCE = `
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'id', ARGV[3], 'event', ARGV[4])
end
redis.call('EXPIRE', KEYS[2], ARGV[1])
return false`;

/** How long a publish waits for its replicas before it fails (and is retried). */
const REPLICA_WAIT_MS = 2_000;

export interface PublishOptions {
  prefix: string;
  maxLength: number;
  /** Replicas that must have the event before the publish counts; 0: the primary's word is enough. */
  replicas?: number;
}

export class EventNotReplicated extends Error {
  override name = 'EventNotReplicated';
}

/**
 * Publishes one event unless its id was published before; true when it was new. With `replicas`, the script
 * and a WAIT go down one connection (a pipeline goes to the node of its keys' slot, WAIT along with it), and
 * an event fewer replicas acknowledged is an error: Redis replicates asynchronously, so a primary that fails
 * over now could lose it, and the retry that follows publishes it again if so (or finds it and waits again).
 */
export async function publishEvent(redis: RedisConnection, options: PublishOptions, event: CloudEvent): Promise<boolean> {
  const replicas = options.replicas ?? 0;
  for (let attempt = 1; ; attempt++) {
    const pipeline = redis
      .pipeline()
      .eval(PUBLISH_ONCE, 2, streamKey(options.prefix, event.topic), publishedKey(options.prefix, event.id), PUBLISHED_TTL_SECONDS, options.maxLength, event.id, JSON.stringify(event));
    if (replicas > 0) pipeline.wait(replicas, REPLICA_WAIT_MS);
    const results = (await pipeline.exec()) ?? [];
    const [publishError, added] = results[0] ?? [new Error('no reply')];
    if (publishError) {
      // ioredis follows a redirection for a pipeline only when every command got it, and WAIT (no key) never
      // does: after a failover the script's MOVED comes back here. Learn the new slot map and go again.
      if (redis instanceof Cluster && attempt < 3 && /^(MOVED|TRYAGAIN|CLUSTERDOWN)\b/.test(publishError.message)) {
        await new Promise<void>((resolve) => redis.refreshSlotsCache(() => resolve()));
        continue;
      }
      throw publishError;
    }
    if (replicas > 0) {
      const [waitError, acknowledged] = results[1] ?? [new Error('no reply')];
      if (waitError) throw waitError;
      if (Number(acknowledged) < replicas) {
        throw new EventNotReplicated(`event ${event.id} reached ${String(acknowledged)} of ${replicas} replicas within ${REPLICA_WAIT_MS} ms`);
      }
    }
    return added !== null;
  }
}
