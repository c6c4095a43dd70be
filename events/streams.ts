/**
 * Topics are Redis Streams (`{prefix}stream:{topic}`): XADD to publish, consumer groups to consume.
 * Unlike Redis pub/sub, which drops a message when no subscriber is connected, a stream keeps it until a
 * consumer of the group acknowledges it; this is also how Dapr's Redis pub/sub component works.
 */
import type { Redis } from 'ioredis';
import type { CloudEvent, Topic } from './cloudevents';

export const streamKey = (prefix: string, topic: Topic) => `${prefix}stream:${topic}`;
const publishedKey = (prefix: string, eventId: string) => `${prefix}published:${eventId}`;

/** How long an event id is remembered to make a retried publish a no-op. */
const PUBLISHED_TTL_SECONDS = 7 * 24 * 3600;

// Publish once per event id: a retry after a lost reply finds the marker and adds nothing. Atomic in Redis.
const PUBLISH_ONCE = `
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'id', ARGV[3], 'event', ARGV[4])
end
return false`;

/** Publishes events in order; returns how many were new (the rest had been published already). */
export async function publishEvents(
  redis: Redis,
  options: { prefix: string; maxLength: number },
  events: CloudEvent[],
): Promise<number> {
  let added = 0;
  for (const event of events) {
    const result = await redis.eval(
      PUBLISH_ONCE,
      2,
      streamKey(options.prefix, event.topic),
      publishedKey(options.prefix, event.id),
      PUBLISHED_TTL_SECONDS,
      options.maxLength,
      event.id,
      JSON.stringify(event),
    );
    if (result !== null) added++;
  }
  return added;
}
