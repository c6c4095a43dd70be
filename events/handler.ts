/**
 * What the API process does with each event (the seed's `handle_conversation_event`): one structured log
 * line. Further consumers (analytics, follow-up workflows) would start here, de-duplicating on `event.id`.
 */
import type { Logger } from '../common/logger';
import type { CloudEvent } from '../workflows/shared/cloudevents';

export function logEvent(logger: Logger) {
  return (event: CloudEvent) => {
    logger.info({ topic: event.topic, type: event.type, eventId: event.id, source: event.source, time: event.time }, 'event received');
  };
}
