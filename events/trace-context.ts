/**
 * Trace context through the event streams, after OpenTelemetry's messaging conventions: each publish is a
 * PRODUCER span, child of what caused the event (the `traceparent` its entity stamped on it) and linked to
 * the publishing activity; the event leaves with the producer span's context; the subscriber's handling is
 * a CONSUMER span, child of that. With tracing off, or for an event no traced call caused, events leave
 * without context and their publication makes no span.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Context } from '@opentelemetry/api';
import { endWith, tracer } from '../common/tracing';
import type { CloudEvent } from '../workflows/shared/cloudevents';

const attributesOf = (event: CloudEvent, stream: string, operation: 'send' | 'process') => ({
  'messaging.system': 'redis',
  'messaging.operation.type': operation,
  'messaging.destination.name': stream,
  'messaging.message.id': event.id,
  'cloudevents.event_id': event.id,
  'cloudevents.event_type': event.type,
  'cloudevents.event_source': event.source,
});

/** The context an event carries (its traceparent/tracestate), or none. */
const carried = (event: CloudEvent): Context => propagation.extract(ROOT_CONTEXT, { traceparent: event.traceparent, tracestate: event.tracestate });

/**
 * Runs `publish` with the event as it should be written: within a producer span when this process traces and
 * the event carries a context, leaving with that span's; otherwise without any trace fields (they would name
 * spans nobody recorded).
 */
export async function publishWithTrace<T>(event: CloudEvent, stream: string, traced: boolean, publish: (event: CloudEvent) => Promise<T>): Promise<T> {
  const { traceparent: _traceparent, tracestate: _tracestate, ...plain } = event;
  const parent = carried(event);
  // Parent-based, as the rest of the tracing: an event nothing traced caused (a CLI change, a deadline timer
  // of an untraced run) starts no trace of its own.
  if (!traced || trace.getSpanContext(parent) === undefined) return publish(plain);
  const activity = trace.getSpanContext(context.active());
  const span = tracer().startSpan(
    `publish ${event.topic}`,
    { kind: SpanKind.PRODUCER, attributes: attributesOf(event, stream, 'send'), links: activity ? [{ context: activity }] : [] },
    parent,
  );
  const outgoing: Record<string, string> = {};
  propagation.inject(trace.setSpan(parent, span), outgoing);
  return endWith(span, () => publish({ ...plain, ...outgoing }));
}

/** Runs `handle` within a consumer span joined to the trace the event carries; an event carrying none, without one. */
export function consumeWithTrace<T>(event: CloudEvent, stream: string, handle: () => Promise<T>): Promise<T> {
  const parent = carried(event);
  if (trace.getSpanContext(parent) === undefined) return handle();
  const span = tracer().startSpan(`process ${event.topic}`, { kind: SpanKind.CONSUMER, attributes: attributesOf(event, stream, 'process') }, parent);
  return context.with(trace.setSpan(parent, span), () => endWith(span, handle));
}

/** Marks the active span failed with `err` (a handler failure that is not thrown on). */
export function markFailed(err: unknown): void {
  const span = trace.getActiveSpan();
  span?.recordException(err as Error);
  span?.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
}
