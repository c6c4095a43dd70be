/** What the service published: the events in a topic's Redis Stream, oldest first, each checked against the CloudEvents schema. */
import { CloudEventSchema } from '../../events/cloudevent-schema';
import { TOPICS, type CloudEvent, type Topic } from '../../workflows/shared/cloudevents';
import { streamKey } from '../../events/streams';
import type { RedisConnection } from '../../common/redis';

export async function streamEvents<T = unknown>(redis: RedisConnection, prefix: string, topic: Topic): Promise<CloudEvent<T>[]> {
  const entries = (await redis.xrange(streamKey(prefix, topic), '-', '+')) as [string, string[]][];
  return entries.map(([, fields]) => CloudEventSchema.parse(JSON.parse(fields[fields.indexOf('event') + 1]!)) as CloudEvent<T>);
}

/** The `task-events` of one task, oldest first. */
export async function taskEventsOf(redis: RedisConnection, prefix: string, taskId: string): Promise<CloudEvent<{ task_id: string }>[]> {
  return (await streamEvents<{ task_id: string }>(redis, prefix, TOPICS.tasks)).filter((e) => e.data.task_id === taskId);
}
