/**
 * A SERVER span per request, named by method and route pattern (`POST /tasks/process`, never the raw path),
 * child of the caller's `traceparent` when it sends one. Everything the request does (Temporal calls, log
 * lines) happens within it. Installed only when the process traces (common/tracing.ts).
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';
import { matchedRoute } from './matched-route';
import { tracer } from '../common/tracing';

export function httpServerSpans(): MiddlewareHandler {
  return async (c, next) => {
    const parent = propagation.extract(ROOT_CONTEXT, c.req.header());
    const span = tracer().startSpan(
      c.req.method,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': c.req.method, 'url.path': c.req.path, 'url.scheme': new URL(c.req.url).protocol.replace(':', '') },
      },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), next);
    } finally {
      const route = matchedRoute(c);
      if (route !== undefined) {
        span.setAttribute('http.route', route);
        span.updateName(`${c.req.method} ${route}`);
      }
      span.setAttribute('http.response.status_code', c.res.status);
      if (c.error) span.recordException(c.error);
      if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  };
}
