/** What the API's event subscriber has consumed, per topic. */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppDeps, AppEnv } from '../deps';
import { json } from './responses';

const CountersSchema = z.object({
  received: z.number().int(),
  acknowledged: z.number().int(),
  reclaimed: z.number().int(),
  failed: z.number().int(),
  malformed: z.number().int(),
});
const EventStatsSchema = z
  .object({ subscriber: z.enum(['running', 'off']), topics: z.record(z.string(), CountersSchema) })
  .meta({ id: 'EventStats' });

export function eventRoutes({ subscriber }: AppDeps) {
  return new OpenAPIHono<AppEnv>().openapi(
    createRoute({
      method: 'get',
      path: '/events/stats',
      tags: ['events'],
      summary: 'Counters of the event subscriber (conversation-events, task-events)',
      responses: { 200: json(EventStatsSchema, 'Counters since the process started') },
    }),
    (c) => c.json({ subscriber: subscriber ? ('running' as const) : ('off' as const), topics: subscriber?.counters ?? {} }, 200),
  );
}
