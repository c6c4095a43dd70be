/**
 * Prometheus metrics of the API process at GET /metrics, served on a port of their own (API_METRICS_PORT)
 * by an app of their own, never to the API's callers (they show stream and queue state): requests and latency by route (the route pattern,
 * never the raw path, so ids do not explode the label set) and status, the per-entity update lanes (in
 * flight, waiting, 429s), events consumed by the subscriber, the event streams and their consumer groups
 * (events/metrics.ts), and Node's process metrics. One registry per app, so tests can build several apps in
 * one process. deploy/grafana-dashboard.json is built on these and the worker's.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerEventMetrics } from '../events/metrics';
import type { EventSubscriber } from '../events/subscriber';
import type { EntityUpdateQueue } from './entity-updates';
import { matchedRoute } from './matched-route';
import type { RedisConnection } from '../common/redis';
import type { FeedRegistry } from '../stream/sse';

export interface MetricsSources {
  subscriber?: EventSubscriber;
  entityUpdates: EntityUpdateQueue;
  redis: RedisConnection;
  redisKeyPrefix: string;
  feeds?: FeedRegistry;
  /** MCP sessions open in this process (mcp/sessions.ts). */
  mcpSessions?: () => number;
}

export function createMetrics({ subscriber, entityUpdates, redis, redisKeyPrefix, feeds, mcpSessions }: MetricsSources) {
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
    help: 'HTTP request latency by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const lanes = (name: string, help: string, value: (s: ReturnType<EntityUpdateQueue['stats']>) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value(entityUpdates.stats()));
      },
    });
  lanes('task_agent_entity_updates_in_flight', 'Entity updates this process has sent and not yet had answered', (s) => s.inFlight);
  lanes('task_agent_entity_updates_waiting', 'Requests waiting for a free update slot of their entity (queue depth, all entities)', (s) => s.waiting);
  lanes('task_agent_entity_updates_deepest_lane', 'The longest single entity update queue', (s) => s.deepestLane);
  new Counter({
    name: 'task_agent_entity_updates_rejected_total',
    help: 'Requests answered 429 because their entity update queue was full (ENTITY_UPDATE_QUEUE_LIMIT)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(entityUpdates.stats().rejected);
    },
  });
  registerEventMetrics(registry, redis, redisKeyPrefix);
  new Gauge({
    name: 'task_agent_open_streams',
    help: 'Event streams this process serves now (GET /chat/{user_id}/events, streamed POST /chat)',
    registers: [registry],
    collect() {
      this.set(feeds?.open ?? 0);
    },
  });
  new Gauge({
    name: 'task_agent_mcp_sessions',
    help: 'MCP sessions (/mcp) this process keeps now; each ends when its client ends it or after MCP_SESSION_IDLE unused',
    registers: [registry],
    collect() {
      this.set(mcpSessions?.() ?? 0);
    },
  });
  new Gauge({
    name: 'task_agent_stream_subscriptions',
    help: "Readers subscribed to this process's live hub (one per open stream; more means one leaked)",
    registers: [registry],
    collect() {
      this.set(feeds?.hub.listenerCount ?? 0);
    },
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
    const labels = { method: c.req.method, route: matchedRoute(c) ?? 'unmatched', status: String(c.res.status) };
    stop(labels);
    requests.inc(labels);
  };

  /** The scraper's app: /metrics and nothing else. */
  const app = new Hono().get('/metrics', async (c) => {
    c.header('Content-Type', registry.contentType);
    return c.body(await registry.metrics());
  });

  return { registry, middleware, app };
}
