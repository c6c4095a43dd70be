/**
 * Event envelopes: CloudEvents 1.0 structured JSON, the shape Dapr puts around pub/sub messages, plus
 * `topic`. Workflow-safe (entities build events deterministically and keep them in their outbox), so the
 * event id is fixed when the event is created and stays the same on every publish retry.
 */
import { z } from 'zod';

export const TOPICS = {
  conversations: 'conversation-events',
  tasks: 'task-events',
} as const;
export type Topic = (typeof TOPICS)[keyof typeof TOPICS];

export const CloudEventSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  time: z.iso.datetime(),
  datacontenttype: z.literal('application/json'),
  topic: z.enum([TOPICS.conversations, TOPICS.tasks]),
  data: z.unknown(),
});
export type CloudEvent<T = unknown> = Omit<z.infer<typeof CloudEventSchema>, 'data'> & { data: T };

export function cloudEvent<T>(fields: { id: string; source: string; type: string; topic: Topic; time: string; data: T }): CloudEvent<T> {
  return { specversion: '1.0', datacontenttype: 'application/json', ...fields };
}
