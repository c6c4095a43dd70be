/** What a reader of the event streams checks every entry against: the CloudEvent envelope, in zod. */
import { z } from 'zod';
import { TOPICS, type CloudEvent } from '../workflows/shared/cloudevents';

export const CloudEventSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  time: z.iso.datetime(),
  datacontenttype: z.literal('application/json'),
  topic: z.enum([TOPICS.conversations, TOPICS.tasks, TOPICS.projects]),
  data: z.unknown(),
  traceparent: z.string().optional(),
  tracestate: z.string().optional(),
}) satisfies z.ZodType<CloudEvent>;
