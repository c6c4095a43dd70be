/**
 * Structured JSON logs (pino) for every process; `component` says which one wrote a line, and a line
 * written inside a traced span carries its `trace_id`, `span_id` and `trace_flags` (the names Temporal's
 * tracing interceptors give workflow and activity log lines), so logs and traces find each other.
 */
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, component: string): Logger {
  return pino({ level: config.LOG_LEVEL, base: { component }, mixin: traceFields });
}

function traceFields(): Record<string, string> {
  const span = trace.getSpanContext(context.active());
  if (span === undefined || !isSpanContextValid(span)) return {};
  return { trace_id: span.traceId, span_id: span.spanId, trace_flags: `0${span.traceFlags.toString(16)}` };
}
