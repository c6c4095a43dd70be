/**
 * Prometheus metrics of the API process at GET /metrics: requests and latency by route (the route pattern,
 * never the raw path, so ids do not explode the label set), events consumed by the subscriber, and Node's
 * process metrics. One registry per app, so tests can build several apps in one process.
 */
import type { Hono, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventSubscriber } from '../events/subscriber';

export function createMetrics(subscriber: EventSubscriber | undefined) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'task_agent_api_' });

  const requests = new Counter({
    name: 'task_agent_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'task_agent_http_request_duration_seconds',
    help: 'HTTP request latency by method and route pattern',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new Counter({
    name: 'task_agent_events_consumed_total',
    help: 'Events handled and acknowledged by the subscriber, by topic',
    labelNames: ['topic'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [topic, counters] of Object.entries(subscriber?.counters ?? {})) this.inc({ topic }, counters.acknowledged);
    },
  });

  const middleware: MiddlewareHandler = async (c, next) => {
    const stop = duration.startTimer();
    await next();
    // The last matched route is the handler's pattern; only the catch-all middleware pattern means "no route".
    const route = routePath(c, -1);
    const labels = { method: c.req.method, route: route === '/*' ? 'unmatched' : route };
    stop(labels);
    requests.inc({ ...labels, status: String(c.res.status) });
  };

  const mount = (app: Hono<any>) =>
    app.get('/metrics', async (c) => {
      c.header('Content-Type', registry.contentType);
      return c.body(await registry.metrics());
    });

  return { registry, middleware, mount };
}
