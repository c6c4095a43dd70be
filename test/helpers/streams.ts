/** What the service published: the events in a topic's Redis Stream, oldest first, each checked against the CloudEvents schema. */
import type { Redis } from 'ioredis';
import { CloudEventSchema } from '../../events/cloudevent-schema';
import type { CloudEvent, Topic } from '../../events/cloudevents';
import { streamKey } from '../../events/streams';

export async function streamEvents<T = unknown>(redis: Redis, prefix: string, topic: Topic): Promise<CloudEvent<T>[]> {
  const entries = (await redis.xrange(streamKey(prefix, topic), '-', '+')) as [string, string[]][];
  return entries.map(([, fields]) => CloudEventSchema.parse(JSON.parse(fields[fields.indexOf('event') + 1]!)) as CloudEvent<T>);
}
