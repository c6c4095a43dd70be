/** Publishes entity events to their Redis Streams; a retry of the same events adds nothing (see events/streams.ts). */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { CloudEvent } from '../workflows/shared/cloudevents';
import { publishEvent, streamKey } from '../events/streams';
import { publishWithTrace } from '../events/trace-context';
import type { RedisConnection } from '../common/redis';

export interface EventActivityDeps {
  redis: RedisConnection;
  /** REDIS_KEY_PREFIX, hash-tagged on a cluster (common/redis.ts eventKeyPrefix). */
  eventKeyPrefix: string;
  /** Replicas that must have an event before its publish counts (EVENT_PUBLISH_REPLICAS). */
  publishReplicas?: number;
  /** Approximate cap on each stream's length (XADD MAXLEN ~). */
  streamMaxLength: number;
  /** Whether this process traces: each publish is then a span, and events carry its context. */
  traced?: boolean;
}

export function createEventActivities(deps: EventActivityDeps) {
  const options = { prefix: deps.eventKeyPrefix, maxLength: deps.streamMaxLength, replicas: deps.publishReplicas ?? 0 };
  return {
    /** In order, one at a time: a retry after a partial batch re-adds nothing already in. */
    async publishEvents(events: CloudEvent[]): Promise<{ published: number }> {
      // The one attempt made at once (a local activity, entities/outbox.ts) holds up the entity's workflow task,
      // and any update waiting on it: with Redis unreachable it gives way to the retrying activity now instead
      // of waiting out the reconnection (a connected but slow Redis still takes its 2 s). A thousand deadlines
      // due at once during an outage then cost a thousand quick failures, not a thousand 2 s waits.
      if (Context.current().info.isLocal && deps.redis.status !== 'ready') {
        throw ApplicationFailure.retryable(`Redis is not connected (${deps.redis.status}); the events go the retrying way`, 'RedisNotConnected');
      }
      let published = 0;
      for (const event of events) {
        const stream = streamKey(deps.eventKeyPrefix, event.topic);
        if (await publishWithTrace(event, stream, deps.traced ?? false, (outgoing) => publishEvent(deps.redis, options, outgoing))) published++;
      }
      return { published };
    },
  };
}

export type EventActivities = ReturnType<typeof createEventActivities>;
