/** Liveness (`/healthz`: the process answers) and readiness (`/readyz`: Temporal and Redis answer). */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppDeps, AppEnv } from '../deps';

const HealthSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });
const ReadinessSchema = z
  .object({
    status: z.enum(['ready', 'not_ready']),
    checks: z.object({ temporal: z.string(), redis: z.string() }),
  })
  .meta({ id: 'Readiness' });

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

const check = (probe: () => Promise<unknown>, what: string) =>
  withTimeout(probe(), what).then(
    () => 'ok',
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );

export function healthRoutes({ client, redis, draining }: AppDeps) {
  return new OpenAPIHono<AppEnv>()
    .openapi(
      createRoute({
        method: 'get',
        path: '/healthz',
        tags: ['health'],
        summary: 'Liveness: the process is up',
        responses: { 200: { description: 'Up', content: { 'application/json': { schema: HealthSchema } } } },
      }),
      (c) => c.json({ status: 'ok' as const }, 200),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/readyz',
        tags: ['health'],
        summary: 'Readiness: Temporal and Redis answer',
        responses: {
          200: { description: 'Ready', content: { 'application/json': { schema: ReadinessSchema } } },
          503: { description: 'A dependency does not answer', content: { 'application/json': { schema: ReadinessSchema } } },
        },
      }),
      async (c) => {
        if (draining?.()) return c.json({ status: 'not_ready' as const, checks: { temporal: 'draining', redis: 'draining' } }, 503);
        const [temporal, redisCheck] = await Promise.all([
          check(() => client.workflowService.getSystemInfo({}), 'Temporal'),
          check(() => (redis.status === 'ready' ? redis.ping() : Promise.reject(new Error(`Redis is ${redis.status}`))), 'Redis'),
        ]);
        const ready = temporal === 'ok' && redisCheck === 'ok';
        return c.json(
          { status: ready ? ('ready' as const) : ('not_ready' as const), checks: { temporal, redis: redisCheck } },
          ready ? 200 : 503,
        );
      },
    );
}
