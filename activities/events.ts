/** Publishes entity events to their Redis Streams; a retry of the same events adds nothing (see events/streams.ts). */
import type { Redis } from 'ioredis';
import type { CloudEvent } from '../events/cloudevents';
import { publishEvents } from '../events/streams';

export interface EventActivityDeps {
  redis: Redis;
  keyPrefix: string;
  /** Approximate cap on each stream's length (XADD MAXLEN ~). */
  streamMaxLength: number;
}

export function createEventActivities(deps: EventActivityDeps) {
  return {
    async publishEvents(events: CloudEvent[]): Promise<{ published: number }> {
      const published = await publishEvents(deps.redis, { prefix: deps.keyPrefix, maxLength: deps.streamMaxLength }, events);
      return { published };
    },
  };
}
