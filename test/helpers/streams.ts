/** What the service published: the events in a topic's Redis Stream, oldest first, each checked against the CloudEvents schema. */
import { CloudEventSchema } from '../../events/cloudevent-schema';
import type { CloudEvent, Topic } from '../../workflows/shared/cloudevents';
import { streamKey } from '../../events/streams';
import type { RedisConnection } from '../../common/redis';

export async function streamEvents<T = unknown>(redis: RedisConnection, prefix: string, topic: Topic): Promise<CloudEvent<T>[]> {
  const entries = (await redis.xrange(streamKey(prefix, topic), '-', '+')) as [string, string[]][];
  return entries.map(([, fields]) => CloudEventSchema.parse(JSON.parse(fields[fields.indexOf('event') + 1]!)) as CloudEvent<T>);
}
